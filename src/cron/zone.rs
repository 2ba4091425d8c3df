//! Go's `time.LoadLocation` over the IANA database (chrono-tz), because `TZ=` prefixes and
//! `spec.timeZone` are both resolved by it and the API server prints its errors verbatim.
//!
//! Go reads `/usr/share/zoneinfo/<name>` on the server (the embedded copy is the fallback), so
//! a few answers depend on the host's files. The names a real v1.32 server was seen to accept
//! or reject that chrono-tz does not know are mapped deliberately below.

use chrono_tz::{Tz, TZ_VARIANTS};

/// A resolved location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// An IANA zone (UTC included).
    Zone(Tz),
    /// Go's `time.Local`: the server's own zone. Kubernetes servers run in UTC.
    Local,
}

impl Location {
    /// The zone used to compute fire times.
    pub(crate) fn tz(self) -> Tz {
        match self {
            Location::Zone(tz) => tz,
            Location::Local => Tz::UTC,
        }
    }
}

/// Files in the zoneinfo directory that are not TZif data (Debian tzdata 2025b).
const NON_ZONE_FILES: &[&str] = &[
    "iso3166.tab",
    "leap-seconds.list",
    "leapseconds",
    "tzdata.zi",
    "zone.tab",
    "zone1970.tab",
    "zonenow.tab",
];

/// Linux limits: PATH_MAX (with the terminating NUL) and NAME_MAX.
const PATH_MAX: usize = 4096;
const NAME_MAX: usize = 255;
const ZONEINFO_DIR: &str = "/usr/share/zoneinfo/";

/// What a path under the zoneinfo directory names.
enum Node {
    Zone(Tz),
    NonZoneFile,
    Directory,
}

/// Go `time.LoadLocation(name)`; the error is Go's text.
pub(crate) fn load_location(name: &str) -> Result<Location, String> {
    if name.is_empty() || name == "UTC" {
        return Ok(Location::Zone(Tz::UTC));
    }
    if name == "Local" {
        return Ok(Location::Local);
    }
    if name.contains("..") || name.starts_with('/') || name.starts_with('\\') {
        return Err("time: invalid location name".into());
    }
    if name.contains('\0') {
        return Err("invalid argument".into());
    }
    if ZONEINFO_DIR.len() + 1 + name.len() >= PATH_MAX {
        return Err("file name too long".into());
    }
    // A plain IANA name resolves to its own file; only odd paths need the walk below.
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(Location::Zone(tz));
    }
    resolve_path(name)
        .map(Location::Zone)
        .map_err(|errno| match errno {
            Errno::NotFound => format!("unknown time zone {name}"),
            Errno::NotDirectory => "not a directory".into(),
            Errno::IsDirectory => "is a directory".into(),
            Errno::NameTooLong => "file name too long".into(),
            Errno::Malformed => "malformed time zone information".into(),
        })
}

enum Errno {
    NotFound,
    NotDirectory,
    IsDirectory,
    NameTooLong,
    Malformed,
}

/// Walks `name` the way the kernel resolves `/usr/share/zoneinfo//<name>`: empty and `.`
/// components vanish, a file in the middle is ENOTDIR, the first missing component ENOENT.
fn resolve_path(name: &str) -> Result<Tz, Errno> {
    let mut prefix = String::new();
    let mut current = Node::Directory;
    for component in name.split('/') {
        // Anything after a file, even "." or the empty piece of a trailing slash, is ENOTDIR.
        if !matches!(current, Node::Directory) {
            return Err(Errno::NotDirectory);
        }
        if component.is_empty() || component == "." {
            continue;
        }
        if component.len() > NAME_MAX {
            return Err(Errno::NameTooLong);
        }
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(component);
        current = lookup(&prefix).ok_or(Errno::NotFound)?;
    }
    match current {
        Node::Directory => Err(Errno::IsDirectory),
        Node::NonZoneFile => Err(Errno::Malformed),
        Node::Zone(tz) => Ok(tz),
    }
}

/// One path relative to the zoneinfo directory.
fn lookup(path: &str) -> Option<Node> {
    // posix/ holds the same zone files; right/ holds them with leap seconds counted, which
    // shifts instants by under half a minute (treated as the plain zone).
    for variant in ["posix", "right"] {
        if path == variant {
            return Some(Node::Directory);
        }
        if let Some(rest) = path.strip_prefix(variant).and_then(|r| r.strip_prefix('/')) {
            return match lookup_plain(rest)? {
                Node::NonZoneFile => None,
                node => Some(node),
            };
        }
    }
    lookup_plain(path)
}

fn lookup_plain(path: &str) -> Option<Node> {
    if let Ok(tz) = path.parse::<Tz>() {
        return Some(Node::Zone(tz));
    }
    match path {
        // Factory is UTC with the abbreviation "-00"; posixrules is zic's copy of New York;
        // localtime links to /etc/localtime, the server's zone (UTC on Kubernetes nodes).
        "Factory" | "localtime" => return Some(Node::Zone(Tz::UTC)),
        "posixrules" => return Some(Node::Zone(Tz::America__New_York)),
        _ => {}
    }
    if NON_ZONE_FILES.contains(&path) {
        return Some(Node::NonZoneFile);
    }
    let is_dir = TZ_VARIANTS.iter().any(|tz| {
        let n = tz.name();
        n.len() > path.len() && n.starts_with(path) && n.as_bytes()[path.len()] == b'/'
    });
    is_dir.then_some(Node::Directory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("", Tz::UTC)]
    #[case("UTC", Tz::UTC)]
    #[case("US/Eastern", Tz::US__Eastern)]
    #[case("Etc/GMT+5", Tz::Etc__GMTPlus5)]
    #[case("UCT", Tz::UCT)]
    #[case("EST5EDT", Tz::EST5EDT)]
    #[case("Europe//Berlin", Tz::Europe__Berlin)]
    #[case("./Europe/./Berlin", Tz::Europe__Berlin)]
    #[case("posix/Europe/Berlin", Tz::Europe__Berlin)]
    #[case("right/UTC", Tz::UTC)]
    #[case("posixrules", Tz::America__New_York)]
    #[case("Factory", Tz::UTC)]
    #[case("localtime", Tz::UTC)]
    fn loads_zones(#[case] name: &str, #[case] tz: Tz) {
        assert_eq!(load_location(name), Ok(Location::Zone(tz)));
    }

    #[test]
    fn loads_local_as_the_server_zone() {
        assert_eq!(load_location("Local"), Ok(Location::Local));
        assert_eq!(Location::Local.tz(), Tz::UTC);
    }

    #[rstest]
    #[case("europe/berlin", "unknown time zone europe/berlin")]
    #[case("utc", "unknown time zone utc")]
    #[case("LOCAL", "unknown time zone LOCAL")]
    #[case("Mars/Olympus", "unknown time zone Mars/Olympus")]
    #[case("../x", "time: invalid location name")]
    #[case("/etc/localtime", "time: invalid location name")]
    #[case("\\x", "time: invalid location name")]
    #[case("zone.tab", "malformed time zone information")]
    #[case("Europe", "is a directory")]
    #[case("posix", "is a directory")]
    #[case(".", "is a directory")]
    #[case("UTC/x", "not a directory")]
    #[case("Europe/Berlin/", "not a directory")]
    #[case("Europe/Berlin/.", "not a directory")]
    #[case("zone.tab/", "not a directory")]
    #[case("posix/zone.tab", "unknown time zone posix/zone.tab")]
    #[case("a\0b", "invalid argument")]
    fn rejects_like_go(#[case] name: &str, #[case] message: &str) {
        assert_eq!(load_location(name), Err(message.to_string()));
    }

    #[test]
    fn rejects_overlong_names() {
        assert_eq!(
            load_location(&"x".repeat(300)),
            Err("file name too long".to_string())
        );
        assert_eq!(
            load_location(&"x/".repeat(3000)),
            Err("file name too long".to_string())
        );
    }
}
