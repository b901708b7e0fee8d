-- Text holds no control characters, whoever writes it (issue 21): the same rule as the
-- program's (`domain::validation::no_control`: every character of Unicode's Cc category,
-- U+0000–U+001F and U+007F–U+009F; a multi-line field may hold line breaks and tabs), so that
-- a value written by plain SQL cannot drive the terminal of whoever reads it. NOT VALID: kept
-- on every row written from now on, without scanning (or refusing) what is already there;
-- what is printed escapes control characters anyway.

CREATE FUNCTION pd_one_line(t text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT t !~ '[\u0001-\u001f\u007f-\u009f]'
$$;
CREATE FUNCTION pd_lines(t text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT t !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]'
$$;


-- One-line fields.
ALTER TABLE partners
    ADD CONSTRAINT partners_legal_name_text CHECK (pd_one_line(legal_name)) NOT VALID,
    ADD CONSTRAINT partners_display_name_text CHECK (pd_one_line(display_name)) NOT VALID,
    ADD CONSTRAINT partners_domain_text CHECK (pd_one_line(domain)) NOT VALID,
    ADD CONSTRAINT partners_contact_email_text CHECK (pd_one_line(contact_email)) NOT VALID,
    ADD CONSTRAINT partners_region_text CHECK (pd_one_line(region)) NOT VALID,
    ADD CONSTRAINT partners_logo_url_text CHECK (pd_one_line(logo_url)) NOT VALID,
    ADD CONSTRAINT partners_website_url_text CHECK (pd_one_line(website_url)) NOT VALID;
ALTER TABLE deals
    ADD CONSTRAINT deals_title_text CHECK (pd_one_line(title)) NOT VALID,
    ADD CONSTRAINT deals_coupon_code_text CHECK (pd_one_line(coupon_code)) NOT VALID,
    ADD CONSTRAINT deals_audience_scope_value_text CHECK (pd_one_line(audience_scope_value)) NOT VALID,
    ADD CONSTRAINT deals_redemption_url_text CHECK (pd_one_line(redemption_url)) NOT VALID;
ALTER TABLE deal_coupon_codes
    ADD CONSTRAINT deal_coupon_codes_code_text CHECK (pd_one_line(code)) NOT VALID;
ALTER TABLE negotiation_threads
    ADD CONSTRAINT negotiation_threads_subject_text CHECK (pd_one_line(subject)) NOT VALID,
    ADD CONSTRAINT negotiation_threads_closed_reason_text CHECK (pd_one_line(closed_reason)) NOT VALID;
ALTER TABLE contracts
    ADD CONSTRAINT contracts_status_reason_text CHECK (pd_one_line(status_reason)) NOT VALID;
ALTER TABLE contract_benefits
    ADD CONSTRAINT contract_benefits_name_text CHECK (pd_one_line(name)) NOT VALID;
ALTER TABLE settlements
    ADD CONSTRAINT settlements_dispute_reason_text CHECK (pd_one_line(dispute_reason)) NOT VALID,
    ADD CONSTRAINT settlements_payment_reference_text CHECK (pd_one_line(payment_reference)) NOT VALID;
ALTER TABLE payout_ledger
    ADD CONSTRAINT payout_ledger_reference_text CHECK (pd_one_line(reference)) NOT VALID;
ALTER TABLE plans
    ADD CONSTRAINT plans_name_text CHECK (pd_one_line(name)) NOT VALID;
ALTER TABLE claim_tokens
    ADD CONSTRAINT claim_tokens_email_text CHECK (pd_one_line(email)) NOT VALID;
ALTER TABLE operators
    ADD CONSTRAINT operators_display_name_text CHECK (pd_one_line(display_name)) NOT VALID;
ALTER TABLE webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_url_text CHECK (pd_one_line(url)) NOT VALID,
    ADD CONSTRAINT webhook_endpoints_disabled_reason_text CHECK (pd_one_line(disabled_reason)) NOT VALID;

-- Multi-line fields (line breaks and tabs allowed).
ALTER TABLE partners
    ADD CONSTRAINT partners_notes_text CHECK (pd_lines(notes)) NOT VALID;
ALTER TABLE deals
    ADD CONSTRAINT deals_description_text CHECK (pd_lines(description)) NOT VALID;
ALTER TABLE negotiation_messages
    ADD CONSTRAINT negotiation_messages_body_text CHECK (pd_lines(body)) NOT VALID;
ALTER TABLE negotiation_offers
    ADD CONSTRAINT negotiation_offers_note_text CHECK (pd_lines(note)) NOT VALID;
ALTER TABLE contract_benefits
    ADD CONSTRAINT contract_benefits_note_text CHECK (pd_lines(note)) NOT VALID;
ALTER TABLE settlements
    ADD CONSTRAINT settlements_review_note_text CHECK (pd_lines(review_note)) NOT VALID;
ALTER TABLE payout_ledger
    ADD CONSTRAINT payout_ledger_note_text CHECK (pd_lines(note)) NOT VALID;
ALTER TABLE redemptions
    ADD CONSTRAINT redemptions_flag_note_text CHECK (pd_lines(flag_note)) NOT VALID;
