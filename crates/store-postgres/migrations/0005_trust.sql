-- Trust: users, API tokens and web sessions (stored as hashes), electronic signatures.
CREATE TABLE users (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id UUID REFERENCES organisations (id),
    active BOOLEAN NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    totp_last_step BIGINT,
    failed_attempts BIGINT NOT NULL,
    locked_until TIMESTAMPTZ
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    user_id UUID NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    user_id UUID NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);

CREATE TABLE signatures (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    signer_id UUID NOT NULL REFERENCES users (id),
    signer_name TEXT NOT NULL,
    signer_role TEXT NOT NULL,
    meaning TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id UUID NOT NULL,
    entity_version BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL,
    comment TEXT
);
CREATE INDEX signatures_entity ON signatures (entity, entity_id);
