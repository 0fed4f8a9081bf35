//! The OpenAPI document, generated from the same resource types the handlers use.
//!
//! utoipa derives each type's schema; the paths are added here as each resource is
//! mounted (see [`super::ApiBuilder`]), so a resource cannot be served without being
//! documented. Served at `/api/v1/openapi.json` (no Swagger UI: it downloads assets at
//! build time, and the machine building Saisei may be offline).

use super::resource::Resource;
use crate::problem::ProblemBody;
use saisei_domain::RecordMeta;
use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AllOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Ref, RefOr,
    Required, ResponseBuilder,
};

/// Paths and schemas collected while mounting routes.
#[derive(Default)]
pub struct Doc {
    paths: Vec<(String, HttpMethod, utoipa::openapi::path::Operation)>,
    schemas: Vec<(String, RefOr<Schema>)>,
    /// Derived fields of record schemas (see [`super::contract::finish`]).
    pub derived: super::contract::Derived,
    /// Fields of input schemas that only the server sets, by schema name.
    pub read_only: std::collections::BTreeMap<String, Vec<String>>,
    /// Change bodies to derive: patch schema name → (data schema, fields that cannot
    /// be changed).
    pub patches: super::contract::Patches,
}

fn json_content(schema: impl Into<RefOr<Schema>>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            json_content(Ref::from_schema_name("ProblemBody")),
        )
        .build()
}

fn param(
    name: &str,
    location: ParameterIn,
    required: bool,
    ty: Type,
    description: &str,
) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(location)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(ty)))
        .build()
}

fn id_param() -> utoipa::openapi::path::Parameter {
    param(
        "id",
        ParameterIn::Path,
        true,
        Type::String,
        "The record's id (UUID)",
    )
}

impl Doc {
    /// Adds one operation.
    pub fn operation(
        &mut self,
        path: &str,
        method: HttpMethod,
        op: utoipa::openapi::path::Operation,
    ) {
        self.paths.push((path.to_string(), method, op));
    }

    /// Adds a type's schema and the schemas it refers to.
    pub fn schema<T: ToSchema>(&mut self) {
        self.schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(&mut self.schemas);
    }

    /// Documents a resource's collection and item operations.
    pub fn resource<R: Resource>(&mut self, writable: bool) {
        self.schema::<R>();
        self.schema::<R::Input>();
        let name = R::name().into_owned();
        let record_name = format!("{name}Record");
        let derived = R::derived()
            .into_iter()
            .map(|(field, schema)| {
                (
                    field.to_string(),
                    serde_json::to_value(schema).unwrap_or_default(),
                )
            })
            .collect();
        self.derived.insert(record_name.clone(), derived);
        let input = <R::Input as ToSchema>::name().into_owned();
        if input == name && !R::READ_ONLY.is_empty() {
            self.read_only
                .insert(input, R::READ_ONLY.iter().map(|f| f.to_string()).collect());
        }
        let record: RefOr<Schema> = AllOfBuilder::new()
            .item(Ref::from_schema_name("RecordMeta"))
            .item(Ref::from_schema_name(name.clone()))
            .into();
        self.schemas.push((record_name.clone(), record));
        let record_ref = || Ref::from_schema_name(record_name.clone());
        let collection = format!("/api/v1/{}", R::path());
        let item = format!("/api/v1/{}/{{id}}", R::path());
        let tag = R::tag();

        let list = super::with_query(
            OperationBuilder::new()
                .tag(tag)
                .operation_id(Some(format!("list_{}", R::table().name)))
                .summary(Some(format!(
                    "List {} (cursor pagination, filters by field)",
                    R::table().name
                )))
                .build(),
            super::table_list_params(R::table(), None),
        );
        let page = ObjectBuilder::new()
            .property("items", ArrayBuilder::new().items(record_ref()))
            .required("items")
            .property(
                "next_cursor",
                ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                        Type::String,
                        Type::Null,
                    ]))
                    .description(Some(
                        "Pass as `cursor` for the next page; null on the last page",
                    )),
            )
            .required("next_cursor")
            .build();
        let mut list = list;
        list.responses.responses.insert(
            "200".to_string(),
            RefOr::T(
                ResponseBuilder::new()
                    .description("A page of records")
                    .content("application/json", json_content(page))
                    .build(),
            ),
        );
        self.operation(&collection, HttpMethod::Get, list);

        let get = OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("get_{}", R::KIND)))
            .summary(Some(format!("Read one {}", R::KIND)))
            .parameter(id_param())
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The record")
                    .content("application/json", json_content(record_ref())),
            )
            .response("404", problem_response("No such record"))
            .build();
        self.operation(&item, HttpMethod::Get, get);

        if !writable {
            return;
        }
        let create = OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("create_{}", R::KIND)))
            .summary(Some(format!("Create a {}", R::KIND)))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        json_content(Ref::from_schema_name(<R::Input as ToSchema>::name())),
                    )
                    .build(),
            ))
            .response(
                "201",
                ResponseBuilder::new()
                    .description("Created")
                    .content("application/json", json_content(record_ref())),
            )
            .response("400", problem_response("Malformed body"))
            .response("409", problem_response("A unique value is taken"))
            .response("422", problem_response("Invalid fields"))
            .build();
        self.operation(&collection, HttpMethod::Post, create);

        let patch_name = format!("{name}Patch");
        let fixed: Vec<String> = R::READ_ONLY
            .iter()
            .chain(R::immutable())
            .map(|f| f.to_string())
            .collect();
        self.patches
            .insert(patch_name.clone(), (name.clone(), fixed));
        let patch_body = Ref::from_schema_name(patch_name);
        let update = OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("update_{}", R::KIND)))
            .summary(Some(format!(
                "Change a {} (optimistic concurrency)",
                R::KIND
            )))
            .parameter(id_param())
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content("application/json", json_content(patch_body))
                    .build(),
            ))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("Updated")
                    .content("application/json", json_content(record_ref())),
            )
            .response("409", problem_response("Stale version"))
            .response("422", problem_response("Invalid fields"))
            .build();
        self.operation(&item, HttpMethod::Patch, update);

        let withdraw = OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("withdraw_{}", R::KIND)))
            .summary(Some(format!(
                "Withdraw a {} (records are never deleted)",
                R::KIND
            )))
            .parameter(id_param())
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        json_content(Ref::from_schema_name("Withdrawal")),
                    )
                    .build(),
            ))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("Withdrawn")
                    .content("application/json", json_content(record_ref())),
            )
            .response("409", problem_response("Stale version"))
            .build();
        self.operation(&format!("{item}/withdraw"), HttpMethod::Post, withdraw);
    }

    /// Assembles the document.
    pub fn build(mut self) -> OpenApi {
        self.schema::<RecordMeta>();
        self.schema::<ProblemBody>();
        self.schema::<super::resource::Withdrawal>();
        let mut paths = PathsBuilder::new();
        let mut grouped: std::collections::BTreeMap<
            String,
            Vec<(HttpMethod, utoipa::openapi::path::Operation)>,
        > = Default::default();
        for (p, m, o) in self.paths {
            grouped.entry(p).or_default().push((m, o));
        }
        for (p, ops) in grouped {
            let mut iter = ops.into_iter();
            if let Some((m, o)) = iter.next() {
                let mut item = PathItem::new(m, o);
                for (m, o) in iter {
                    item.merge_operations(PathItem::new(m, o));
                }
                paths = paths.path(p, item);
            }
        }
        let mut components = utoipa::openapi::ComponentsBuilder::new();
        self.schemas.sort_by(|a, b| a.0.cmp(&b.0));
        self.schemas.dedup_by(|a, b| a.0 == b.0);
        for (name, schema) in self.schemas {
            components = components.schema(name, schema);
        }
        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("Saisei registry API")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some("Registry and evidence platform for regenerative medicine. Errors are application/problem+json with a stable `code` and the fields at fault."))
                    .build(),
            )
            .paths(paths.build())
            .components(Some(components.build()))
            .build()
    }
}
