-- An institution's patients ordered by birth month or by sex (the patient list's
-- column headings) are read from an index in that order and stop when the page is
-- full, instead of sorting every patient of the institution for each page.
CREATE INDEX patients_institution_birth_page ON patients (institution_id, birth_year_month, id);
CREATE INDEX patients_institution_sex_page ON patients (institution_id, sex, id);
