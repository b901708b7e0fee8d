//! The partner form: the fields, and the draft they make.

use crate::console::form::{Field, Form};
use crate::domain::PartnerDraft;
use crate::domain::validation::split_list;
use crate::service::rows::Partner;

fn opt(s: String) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_owned())
    }
}

pub fn draft_of(form: &Form) -> PartnerDraft {
    PartnerDraft {
        legal_name: form.value("legal_name"),
        display_name: form.value("display_name"),
        logo_url: opt(form.value("logo_url")),
        website_url: opt(form.value("website_url")),
        contact_email: opt(form.value("contact_email")),
        categories: split_list(&form.value("categories")),
        region: opt(form.value("region")),
        notes: opt(form.value("notes")),
    }
}

pub fn form_for(title: String, d: &PartnerDraft) -> Form {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut form = Form::new(
        title,
        vec![
            Field::new(
                "display_name",
                "Display name",
                "required, ≤ 255",
                false,
                &d.display_name,
            ),
            Field::new(
                "legal_name",
                "Legal name",
                "required, ≤ 255",
                false,
                &d.legal_name,
            ),
            Field::new(
                "website_url",
                "Website",
                "https://…; its domain must be unique",
                false,
                &o(&d.website_url),
            ),
            Field::new(
                "logo_url",
                "Logo URL",
                "https://… PNG or SVG",
                false,
                &o(&d.logo_url),
            ),
            Field::new(
                "contact_email",
                "Contact e-mail",
                "name@domain",
                false,
                &o(&d.contact_email),
            ),
            Field::new(
                "categories",
                "Categories",
                "comma-separated",
                false,
                &d.categories.join(", "),
            ),
            Field::new("region", "Region", "≤ 64", false, &o(&d.region)),
            Field::new(
                "notes",
                "Notes",
                "free text; Enter for a new line",
                true,
                &o(&d.notes),
            ),
        ],
    );
    form.errors = d.validate().err().unwrap_or_default();
    form
}

pub fn draft_from(p: &Partner) -> PartnerDraft {
    PartnerDraft {
        legal_name: p.legal_name.clone(),
        display_name: p.display_name.clone(),
        logo_url: p.logo_url.clone(),
        website_url: p.website_url.clone(),
        contact_email: p.contact_email.clone(),
        categories: p.categories.clone(),
        region: p.region.clone(),
        notes: p.notes.clone(),
    }
}
