//! apimachinery's name, label and path validators (`k8s.io/apimachinery/pkg/util/validation`)
//! with their exact message texts, regexes included, since the API server prints them.

const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;
const QUALIFIED_NAME_MAX: usize = 63;
const LABEL_VALUE_MAX: usize = 63;

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const QUALIFIED_NAME_MSG: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const HTTP_PATH_FMT: &str = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";

/// apimachinery `RegexError`, double spaces and all.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push_str(&format!("'{e}', "));
    }
    out.push_str(&format!("regex used for validation is '{fmt}')"));
    out
}

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn is_label_shape(s: &str) -> bool {
    is_label_bytes(s.as_bytes())
}

fn is_label_bytes(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_subdomain_shape(s: &str) -> bool {
    s.split('.').all(is_label_shape)
}

fn is_qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_' || *c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// `IsDNS1123Label`.
pub(crate) fn dns1123_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_LABEL_MAX {
        errs.push(max_len_error(DNS1123_LABEL_MAX));
    }
    if !is_label_shape(s) {
        if is_subdomain_shape(s) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// `IsDNS1123Subdomain`.
pub(crate) fn dns1123_subdomain(s: &str) -> Vec<String> {
    dns1123_subdomain_bytes(s.as_bytes())
}

/// `IsDNS1123Subdomain` over bytes: Go strings are bytes, and the masked `generateName`
/// below may end in the middle of a UTF-8 sequence.
fn dns1123_subdomain_bytes(s: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_SUBDOMAIN_MAX {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX));
    }
    if !s.split(|b| *b == b'.').all(is_label_bytes) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `NameIsDNSSubdomain`: for a `generateName` prefix a trailing dash is allowed.
/// apimachinery's `maskTrailingDash` replaces the last *two* bytes with `a`
/// (`name[:len(name)-2] + "a"`), so the character before the dash is never checked:
/// `ab_-` passes as `aba`, while `Demo-` still fails as `Dema`.
pub(crate) fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    let b = name.as_bytes();
    if prefix && b.len() > 1 && name.ends_with('-') {
        let mut masked = b[..b.len() - 2].to_vec();
        masked.push(b'a');
        return dns1123_subdomain_bytes(&masked);
    }
    dns1123_subdomain(name)
}

/// `IsQualifiedName` (label keys, annotation keys, condition types).
pub(crate) fn qualified_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = s.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                for m in dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {m}"));
                }
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > QUALIFIED_NAME_MAX {
        errs.push(format!("name part {}", max_len_error(QUALIFIED_NAME_MAX)));
    }
    if !is_qualified_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `IsValidLabelValue`.
pub(crate) fn label_value(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > LABEL_VALUE_MAX {
        errs.push(max_len_error(LABEL_VALUE_MAX));
    }
    if !(s.is_empty() || is_qualified_part(s)) {
        errs.push(regex_error(
            LABEL_VALUE_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// What `IsDomainPrefixedPath` found wrong: the bad value (the whole path, the host or the
/// path part) and the message, or `None` for "Required".
pub(crate) enum DomainPathError {
    Required,
    Invalid(String, String),
}

/// `IsDomainPrefixedPath` (`spec.managedBy`).
pub(crate) fn domain_prefixed_path(s: &str) -> Vec<DomainPathError> {
    if s.is_empty() {
        return vec![DomainPathError::Required];
    }
    let Some((host, path)) = s.split_once('/') else {
        return vec![DomainPathError::Invalid(
            s.to_string(),
            "must be a domain-prefixed path (such as \"acme.io/foo\")".to_string(),
        )];
    };
    if host.is_empty() || path.is_empty() {
        return vec![DomainPathError::Invalid(
            s.to_string(),
            "must be a domain-prefixed path (such as \"acme.io/foo\")".to_string(),
        )];
    }
    let mut errs: Vec<DomainPathError> = dns1123_subdomain(host)
        .into_iter()
        .map(|m| DomainPathError::Invalid(host.to_string(), m))
        .collect();
    let path_ok = path
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"/-._~%!$&'()*+,;=:".contains(&c));
    if !path_ok {
        errs.push(DomainPathError::Invalid(
            path.to_string(),
            regex_error("Invalid path", HTTP_PATH_FMT, &[]),
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        assert!(dns1123_subdomain("my.job-1").is_empty());
        assert!(dns1123_label("job-1").is_empty());
        assert!(qualified_name("example.com/Custom").is_empty());
        assert!(label_value("").is_empty());
        assert!(label_value("My_value.1").is_empty());
    }

    #[test]
    fn rejects_dotted_label_with_short_message() {
        assert_eq!(dns1123_label("my.job"), vec!["must not contain dots".to_string()]);
    }

    #[test]
    fn rejects_empty_qualified_name_twice() {
        let errs = qualified_name("");
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0], "name part must be non-empty");
        assert!(errs[1].starts_with("name part must consist of alphanumeric characters"));
    }

    #[test]
    fn masks_trailing_dash_of_generate_name() {
        assert!(name_is_dns_subdomain("demo-", true).is_empty());
        assert!(!name_is_dns_subdomain("demo-", false).is_empty());
        assert!(!name_is_dns_subdomain("Demo-", true).is_empty());
    }

    /// apimachinery `maskTrailingDash`: `name[:len(name)-2] + "a"` (the byte before the
    /// dash is dropped unchecked); a lone `-` is not masked.
    #[test]
    fn masks_the_last_two_bytes_like_apimachinery() {
        assert!(name_is_dns_subdomain("ab_-", true).is_empty());
        assert!(name_is_dns_subdomain("a.-", true).is_empty());
        assert!(name_is_dns_subdomain("A-", true).is_empty());
        assert!(!name_is_dns_subdomain("-", true).is_empty());
        assert!(!name_is_dns_subdomain("_b-", true).is_empty());
        // Cutting inside a multi-byte character must not panic, and still fails.
        assert!(!name_is_dns_subdomain("\u{e9}é-", true).is_empty());
        assert!(name_is_dns_subdomain("aé-", true).len() == 1);
        let long = format!("{}-", "a".repeat(254));
        assert_eq!(name_is_dns_subdomain(&long, true), vec![max_len_error(253)]);
    }

    #[test]
    fn checks_domain_prefixed_paths() {
        assert!(domain_prefixed_path("kueue.x-k8s.io/multikueue").is_empty());
        assert!(matches!(
            domain_prefixed_path("").as_slice(),
            [DomainPathError::Required]
        ));
        assert_eq!(domain_prefixed_path("example.com/").len(), 1);
        match domain_prefixed_path("example.com/foo bar").as_slice() {
            [DomainPathError::Invalid(v, m)] => {
                assert_eq!(v, "foo bar");
                assert!(m.starts_with("Invalid path (regex"));
            }
            _ => panic!("expected one path error"),
        }
    }
}
