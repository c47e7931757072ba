//! Request bodies sent as `application/x-www-form-urlencoded`, each field
//! spelt as the spec's OpenAPI `encoding` object says: a list as repeated
//! fields or joined, an object flattened, joined or as `name[field]`, or a
//! field sent as JSON text. Generated methods call [`form_body`] with the
//! operation's encodings; a field the spec does not name is spelt the
//! OpenAPI default way (`style: form`, `explode: true`).

use crate::Unsendable;
use serde_json::Value;

use crate::path::deep_pairs;

/// How one field of a form body is spelt (the `style` of OpenAPI's Encoding
/// Object, or a `contentType` of JSON).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormStyle {
    /// `style: form`: a list as repeated fields (exploded) or joined with
    /// `,`; an object's fields flattened (exploded) or `name=k,v,k,v`.
    Form,
    /// `style: spaceDelimited`: a list (or an object's keys and values)
    /// joined with spaces.
    SpaceDelimited,
    /// `style: pipeDelimited`: joined with `|`.
    PipeDelimited,
    /// `style: deepObject`: `name[field][inner]=value`.
    DeepObject,
    /// `contentType: application/json`: the field's value as JSON text.
    Json,
}

/// The body of a form request: `body`'s fields as `name=value` pairs, each
/// spelt as `encodings` says (`(field, style, explode)`), or the default
/// way. A field that is `null` or absent sends nothing. Fails only when
/// `body` does not serialize to an object (or `null`, an empty body).
#[doc(hidden)]
pub fn form_body<T: serde::Serialize + ?Sized>(
    body: &T,
    encodings: &[(&str, FormStyle, bool)],
) -> Result<String, Unsendable> {
    let invalid = Unsendable;
    let fields = match serde_json::to_value(body) {
        Ok(Value::Object(fields)) => fields,
        Ok(Value::Null) => return Ok(String::new()),
        Ok(other) => {
            return Err(invalid(format!(
                "a form body is an object of fields, not {}",
                kind(&other)
            )));
        }
        Err(e) => return Err(invalid(format!("the form body did not serialize: {e}"))),
    };
    let mut pairs = Vec::new();
    for (name, value) in &fields {
        let (style, explode) = encodings
            .iter()
            .find(|(field, _, _)| field == name)
            .map_or((FormStyle::Form, true), |&(_, style, explode)| {
                (style, explode)
            });
        field_pairs(name, value, style, explode, &mut pairs);
    }
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &pairs {
        out.append_pair(name, value);
    }
    Ok(out.finish())
}

/// The pairs field `name` holding `value` makes.
fn field_pairs(
    name: &str,
    value: &Value,
    style: FormStyle,
    explode: bool,
    out: &mut Vec<(String, String)>,
) {
    let joiner = match style {
        FormStyle::Form => ",",
        FormStyle::SpaceDelimited => " ",
        FormStyle::PipeDelimited => "|",
        FormStyle::DeepObject => return deep_pairs(name.to_owned(), value, out),
        FormStyle::Json => {
            if !value.is_null() {
                out.push((name.to_owned(), value.to_string()));
            }
            return;
        }
    };
    match value {
        Value::Null => {}
        Value::Array(items) if explode => {
            for item in items.iter().filter(|i| !i.is_null()) {
                out.push((name.to_owned(), text(item)));
            }
        }
        Value::Array(items) => {
            let joined: Vec<String> = items.iter().filter(|i| !i.is_null()).map(text).collect();
            out.push((name.to_owned(), joined.join(joiner)));
        }
        Value::Object(fields) if explode => {
            for (field, inner) in fields.iter().filter(|(_, i)| !i.is_null()) {
                out.push((field.clone(), text(inner)));
            }
        }
        Value::Object(fields) => {
            let joined: Vec<String> = fields
                .iter()
                .filter(|(_, i)| !i.is_null())
                .flat_map(|(field, inner)| [field.clone(), text(inner)])
                .collect();
            out.push((name.to_owned(), joined.join(joiner)));
        }
        plain => out.push((name.to_owned(), text(plain))),
    }
}

/// A value as one field's text: a string as it is, a number or boolean as
/// JSON writes it, anything nested as JSON text.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::FormStyle::{self, *};
    use serde_json::json;

    fn form(body: serde_json::Value, encodings: &[(&str, FormStyle, bool)]) -> String {
        super::form_body(&body, encodings).unwrap()
    }

    /// Every style and explode setting of the OpenAPI specification's
    /// style examples (3.0.3, "Style Examples"), for the three kinds of
    /// value it lists: a string, a list and an object. The table's
    /// `spaceDelimited` percent-encodes the space, where a form body writes
    /// `+` (the `application/x-www-form-urlencoded` serializer); and an
    /// object's fields go out in the order of their names (R, G, B in the
    /// table), as `serde_json` keeps them.
    #[test]
    fn every_style_of_the_openapi_table() {
        let string = json!({"color": "blue"});
        let list = json!({"color": ["blue", "black", "brown"]});
        let object = json!({"color": {"R": 100, "G": 200, "B": 150}});
        let cases: &[(&serde_json::Value, FormStyle, bool, &str)] = &[
            (&string, Form, false, "color=blue"),
            (&string, Form, true, "color=blue"),
            (&list, Form, false, "color=blue%2Cblack%2Cbrown"),
            (&list, Form, true, "color=blue&color=black&color=brown"),
            (&object, Form, false, "color=B%2C150%2CG%2C200%2CR%2C100"),
            (&object, Form, true, "B=150&G=200&R=100"),
            (&list, SpaceDelimited, false, "color=blue+black+brown"),
            (&object, SpaceDelimited, false, "color=B+150+G+200+R+100"),
            (&list, PipeDelimited, false, "color=blue%7Cblack%7Cbrown"),
            (
                &object,
                PipeDelimited,
                false,
                "color=B%7C150%7CG%7C200%7CR%7C100",
            ),
            (
                &object,
                DeepObject,
                true,
                "color%5BB%5D=150&color%5BG%5D=200&color%5BR%5D=100",
            ),
        ];
        for (body, style, explode, expected) in cases {
            assert_eq!(
                form((*body).clone(), &[("color", *style, *explode)]),
                *expected,
                "{style:?}, explode {explode}"
            );
        }
    }

    #[test]
    fn unnamed_fields_are_spelt_the_default_way_and_nulls_send_nothing() {
        let body = json!({
            "name": "a b&c",
            "tags": ["x", null, "y"],
            "gone": null,
            "count": 3,
            "on": true,
            "meta": {"k": "v", "n": null},
        });
        assert_eq!(
            form(body, &[]),
            "count=3&k=v&name=a+b%26c&on=true&tags=x&tags=y"
        );
    }

    #[test]
    fn nested_values_and_json_fields_are_json_text() {
        let body = json!({"rules": [{"a": 1}], "doc": {"x": [1, 2]}});
        assert_eq!(
            form(body.clone(), &[("doc", Json, false)]),
            "doc=%7B%22x%22%3A%5B1%2C2%5D%7D&rules=%7B%22a%22%3A1%7D"
        );
        let deep = json!({"billing": {"line": {"city": "Oslo"}, "zip": "0150"}});
        assert_eq!(
            form(deep, &[("billing", DeepObject, true)]),
            "billing%5Bline%5D%5Bcity%5D=Oslo&billing%5Bzip%5D=0150"
        );
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_and_null_is_empty() {
        assert_eq!(form(json!(null), &[]), "");
        for not_object in [json!([1]), json!("text"), json!(3)] {
            let e = super::form_body(&not_object, &[]).unwrap_err();
            assert!(e.to_string().contains("an object of fields"), "{e}");
        }
    }
}
