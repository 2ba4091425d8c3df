//! The apimachinery string checks pod validation adds to those of `rules::names`
//! (`k8s.io/apimachinery/pkg/util/validation`, v1.32), worded as the API server prints them.

/// `InclusiveRangeError`.
pub(super) fn inclusive_range(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// `IsValidPortNum`.
pub(super) fn port_num(port: i64) -> Option<String> {
    (!(1..=65535).contains(&port)).then(|| inclusive_range(1, 65535))
}

/// `IsValidPortName`: at most 15 characters of `[-a-z0-9]`, at least one letter, no `--`,
/// no hyphen at either end.
pub(super) fn port_name(port: &str) -> Vec<&'static str> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push("must be no more than 15 characters");
    }
    if port.is_empty()
        || !port
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    }
    if !port.bytes().any(|b| b.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)");
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens");
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen");
    }
    errs
}

/// `IsRelaxedEnvVarName` (the `RelaxedEnvironmentVariableValidation` gate is on in v1.32):
/// printable ASCII, the space included, other than `=`.
pub(super) fn relaxed_env_var_name(name: &str) -> Vec<&'static str> {
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push("environment variable name must be non-empty");
    }
    if name.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='");
    }
    errs
}

/// `IsConfigMapKey`.
pub(super) fn config_map_key(key: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if key.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_string());
    }
    match key {
        "." => errs.push("must not be '.'".to_string()),
        ".." => errs.push("must not be '..'".to_string()),
        k if k.starts_with("..") => errs.push("must not start with '..'".to_string()),
        _ => {}
    }
    errs
}

/// `IsHTTPHeaderName`.
pub(super) fn http_header_name(name: &str) -> Option<&'static str> {
    let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (!ok).then_some("a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')")
}

/// `IsValidIP`'s message.
pub(super) const IP_MESSAGE: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

/// `netutils.ParseIPSloppy` accepts it: Go's `net.ParseIP` as it was before Go 1.17, which
/// also reads IPv4 octets with leading zeros (as decimal).
pub(super) fn is_ip(s: &str) -> bool {
    if s.contains(':') {
        return ipv6(s);
    }
    ipv4(s)
}

fn ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 9
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|v| v <= 255)
        })
}

fn ipv6(s: &str) -> bool {
    // An embedded IPv4 tail may have leading zeros in Go's old parser; normalize it first.
    if let Some((head, tail)) = s.rsplit_once(':') {
        if tail.contains('.') {
            if !ipv4(tail) {
                return false;
            }
            let octets: Vec<u32> = tail.split('.').filter_map(|p| p.parse().ok()).collect();
            let normalized = format!("{head}:{}.{}.{}.{}", octets[0], octets[1], octets[2], octets[3]);
            return normalized.parse::<std::net::Ipv6Addr>().is_ok();
        }
    }
    s.parse::<std::net::Ipv6Addr>().is_ok()
}

/// The sysctl name regex (`SysctlContainSlashFmt`) and its 253-character limit.
pub(super) fn is_sysctl_name(name: &str) -> bool {
    if name.len() > 253 {
        return false;
    }
    // (segment[./])*segment, segment = [a-z0-9]([-_a-z0-9]*[a-z0-9])?
    name.split(['.', '/']).all(|seg| {
        let b = seg.as_bytes();
        !b.is_empty()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
    })
}

pub(super) const SYSCTL_MESSAGE: &str =
    "must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$";

/// Which host namespace a sysctl belongs to (`k8s.io/component-helpers/node/util/sysctl`).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum SysctlNamespace {
    Net,
    Ipc,
    Unknown,
}

/// `GetNamespace` after `NormalizeName` (a name whose first separator is `/` uses `/` as the
/// separator and `.` inside segments: the two are swapped).
pub(super) fn sysctl_namespace(name: &str) -> SysctlNamespace {
    let normalized: String = match name.find(['.', '/']) {
        Some(i) if name.as_bytes()[i] == b'/' => name
            .chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                c => c,
            })
            .collect(),
        _ => name.to_string(),
    };
    const IPC: &[&str] = &[
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
    ];
    if IPC.contains(&normalized.as_str()) {
        return SysctlNamespace::Ipc;
    }
    if ["kernel.shm", "kernel.msg", "fs.mqueue."]
        .iter()
        .any(|p| normalized.starts_with(p))
    {
        return SysctlNamespace::Ipc;
    }
    if normalized.starts_with("net.") {
        return SysctlNamespace::Net;
    }
    SysctlNamespace::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("http", true)]
    #[case("web-8080", true)]
    #[case("8080", false)]
    #[case("Http", false)]
    #[case("a--b", false)]
    #[case("-ab", false)]
    #[case("abcdefghijklmnop", false)]
    fn checks_port_names(#[case] name: &str, #[case] ok: bool) {
        assert_eq!(port_name(name).is_empty(), ok, "{name}");
    }

    #[test]
    fn lists_every_port_name_problem_in_go_order() {
        assert_eq!(port_name("8080"), vec!["must contain at least one letter (a-z)"]);
        assert_eq!(
            port_name("-A-"),
            vec![
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "must contain at least one letter (a-z)",
                "must not begin or end with a hyphen"
            ]
        );
    }

    #[rstest]
    #[case("MY-VAR", true)]
    #[case("my.var", true)]
    #[case("1_", true)]
    #[case("A B", true)]
    #[case("MY=VAR", false)]
    #[case("tab\there", false)]
    #[case("é", false)]
    fn checks_env_var_names_relaxed(#[case] name: &str, #[case] ok: bool) {
        assert_eq!(relaxed_env_var_name(name).is_empty(), ok, "{name}");
    }

    #[rstest]
    #[case("10.0.0.1", true)]
    #[case("010.000.000.001", true)]
    #[case("10.0.0", false)]
    #[case("256.0.0.1", false)]
    #[case("2001:db8::ffff", true)]
    #[case("::ffff:010.0.0.1", true)]
    #[case("not-an-ip", false)]
    #[case("", false)]
    fn parses_ips_sloppily(#[case] ip: &str, #[case] ok: bool) {
        assert_eq!(is_ip(ip), ok, "{ip}");
    }

    #[rstest]
    #[case("net.ipv4.ip_local_port_range", SysctlNamespace::Net)]
    #[case("net/ipv4/ip_local_port_range", SysctlNamespace::Net)]
    #[case("kernel.shm_rmid_forced", SysctlNamespace::Ipc)]
    #[case("kernel.msgmax", SysctlNamespace::Ipc)]
    #[case("fs.mqueue.msg_max", SysctlNamespace::Ipc)]
    #[case("kernel.domainname", SysctlNamespace::Unknown)]
    fn classifies_sysctls(#[case] name: &str, #[case] ns: SysctlNamespace) {
        assert_eq!(sysctl_namespace(name), ns);
    }

    #[rstest]
    #[case("net.ipv4.ip_unprivileged_port_start", true)]
    #[case("net/ipv4/conf/eth0.100/forwarding", true)]
    #[case("Net.ipv4", false)]
    #[case("net..ipv4", false)]
    #[case("net.ipv4.", false)]
    fn checks_sysctl_names(#[case] name: &str, #[case] ok: bool) {
        assert_eq!(is_sysctl_name(name), ok, "{name}");
    }

    #[rstest]
    #[case("key.name", 0)]
    #[case("..data", 1)]
    #[case(".", 1)]
    #[case("a/b", 1)]
    fn checks_config_map_keys(#[case] key: &str, #[case] problems: usize) {
        assert_eq!(config_map_key(key).len(), problems, "{key}");
    }
}
