//! JSON objects where the contract says object, and nothing else. serde's derived
//! `Deserialize` for a struct (or an internally tagged enum) also reads a JSON array,
//! taking its elements as the fields in order: `["deposit", "s0001", 8]` would be a
//! deposit, applied and logged. The request types of API v1 refuse that: each derives
//! its serde code as inherent functions (`#[serde(remote = "Self")]`) and gets its
//! trait impls from `objects_only!`, whose `Deserialize` asks for an object and reads
//! the derived code from it. An array is then a type error like any other, found where
//! the parser stands, and the hot path pays nothing: no second parse, no buffering.

/// Implements `Serialize` (the derived one) and `Deserialize` (the derived one, from a
/// JSON object only) for `$ty`, which must carry `#[serde(remote = "Self")]`. `$what`
/// names it in the error (`invalid type: sequence, expected a JSON object ($what)`);
/// `$fields` are its field names, which a `#[serde(flatten)]` of it needs.
macro_rules! objects_only {
    ($ty:ty, $what:literal, $fields:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                // The inherent function derived by `remote = "Self"`.
                <$ty>::serialize(self, serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Object;
                impl<'de> serde::de::Visitor<'de> for Object {
                    type Value = $ty;

                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("a JSON object (", $what, ")"))
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$ty, A::Error> {
                        <$ty>::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                // As a struct, not a map, so that a flattened one is offered only its
                // own fields; `Object` has no `visit_seq`, so an array is refused.
                deserializer.deserialize_struct(stringify!($ty), $fields, Object)
            }
        }
    };
}

pub(crate) use objects_only;

/// For an optional field of a request (`#[serde(default, deserialize_with =
/// "crate::objects::present")]`): absent is `None`, and present it must hold a value
/// of its type. serde would read `null` as absent too, a value the contract does not
/// name: it is refused like any other value of the wrong type.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use crate::wire::{CommandsRequest, TokenRequest};
    use crate::{Command, Meeting, Reservation, ReservedSeats};

    fn refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
        let error = serde_json::from_str::<T>(text).expect_err(text).to_string();
        assert!(error.contains("expected a JSON object"), "{text}: {error}");
        error
    }

    #[test]
    fn arrays_are_refused_wherever_an_object_belongs() {
        refused::<CommandsRequest>(r#"["c", 1, [{"type":"deposit","student":"s1","amount_cents":8}]]"#);
        refused::<CommandsRequest>(r#"{"commands":[["deposit","s0001",8]]}"#);
        refused::<Command>(r#"["deposit","s0001",8]"#);
        refused::<TokenRequest>(r#"["s0001"]"#);
        refused::<Meeting>(r#"["MW","14:00","15:50"]"#);
        refused::<Reservation>(r#"["major:X",2,"2026-11-30T08:00:00Z"]"#);
        let error = refused::<CommandsRequest>(
            r#"{"commands":[{"type":"create_section","section":"A-1","title":"A","units":4,"capacity":9,
                "meetings":[["MW","14:00","15:50"]]}]}"#,
        );
        assert!(error.contains("meeting"), "{error}");
        refused::<CommandsRequest>(
            r#"{"commands":[{"type":"create_section","section":"A-1","title":"A","units":4,"capacity":9,
                "reserved":[["major:X",2,"2026-11-30T08:00:00Z"]]}]}"#,
        );
    }

    #[test]
    fn an_optional_field_is_absent_or_a_value_never_null() {
        let line = r#"{"type":"advance_line","window":1,"admitted":null}"#;
        let error = serde_json::from_str::<Command>(line).expect_err(line).to_string();
        assert!(error.contains("invalid type: null"), "{error}");
        let request = r#"{"client":null,"commands":[]}"#;
        assert!(serde_json::from_str::<CommandsRequest>(request).is_err());
        let absent = r#"{"type":"advance_line","window":1}"#;
        assert!(matches!(
            serde_json::from_str::<Command>(absent),
            Ok(Command::AdvanceLine { admitted: None, .. })
        ));
    }

    #[test]
    fn a_tag_is_a_name_in_an_import_row_as_at_the_top() {
        let row = r#"{"type":0,"section":"A-1","title":"A","units":4,"capacity":9}"#;
        let top = serde_json::from_str::<Command>(row).expect_err(row).to_string();
        let import = format!(r#"{{"type":"import","rows":[{row}]}}"#);
        let nested = serde_json::from_str::<Command>(&import).expect_err(&import).to_string();
        for error in [&top, &nested] {
            assert!(error.contains("expected variant identifier"), "{error}");
        }
        assert!(nested.contains("row 1"), "{nested}");
        let named = import.replace(r#""type":0"#, r#""type":"create_section""#);
        assert!(matches!(serde_json::from_str::<Command>(&named), Ok(Command::Import { rows }) if rows.len() == 1));
    }

    #[test]
    fn objects_read_and_write_as_before() {
        let text = r#"{"client":"c","seq":1,"commands":[{"type":"create_section","section":"A-1","title":"A","units":4,"capacity":9,"waitlist_capacity":0,"meetings":[{"days":"MW","start":"14:00","end":"15:50"}],"reserved":[{"for":"major:X","seats":2,"until":"2026-11-30T08:00:00Z"}]}]}"#;
        let request: CommandsRequest = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&request).unwrap(), text);
        // Flattened into the seats a reservation holds, it is offered only its fields.
        let held = r#"{"for":"major:X","seats":2,"until":"2026-11-30T08:00:00Z","holders":["s1"]}"#;
        let seats: ReservedSeats = serde_json::from_str(held).unwrap();
        assert_eq!(serde_json::to_string(&seats).unwrap(), held);
    }
}
