//! Server and credential resolution, the session file (mode 0600, never sent to another server), URLs and
//! the API's error messages.

use super::*;

fn env(vars: &[(&str, &str)]) -> ClientEnv {
    ClientEnv {
        server_flag: None,
        vars: vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        config_home: Some(PathBuf::from("/home/someone/.config")),
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("custodian-cli-client-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_server_is_the_flag_else_the_variable_else_the_default() {
    let mut e = env(&[]);
    assert_eq!(e.server(), DEFAULT_SERVER);
    assert!(!e.server_given());
    e = env(&[("CUSTODIAN_SERVER", "https://custodian.example/")]);
    assert_eq!(e.server(), "https://custodian.example");
    assert!(e.server_given());
    e.server_flag = Some("http://127.0.0.1:9000".to_owned());
    assert_eq!(e.server(), "http://127.0.0.1:9000");
}

#[test]
fn the_session_file_is_the_override_else_in_the_config_dir() {
    assert_eq!(env(&[]).session_file().unwrap(), PathBuf::from("/home/someone/.config/custodian/session"));
    let e = env(&[("CUSTODIAN_SESSION_FILE", "/tmp/s")]);
    assert_eq!(e.session_file().unwrap(), PathBuf::from("/tmp/s"));
    let none = ClientEnv { config_home: None, ..env(&[]) };
    assert!(none.session_file().unwrap_err().to_string().contains("CUSTODIAN_SESSION_FILE"));
}

#[test]
fn a_saved_session_is_private_and_used_only_for_its_own_server() {
    let dir = temp_dir("session");
    let path = dir.join("nested").join("session");
    let session = Session {
        server: "http://127.0.0.1:8080".to_owned(),
        token: SecretString::from("cus_s_secret".to_owned()),
        person: "admin@example.com".to_owned(),
        expires_at: "2030-01-01T00:00:00Z".to_owned(),
    };
    session.save(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    }
    let loaded = Session::load(&path).unwrap().unwrap();
    assert_eq!(loaded.token.expose_secret(), "cus_s_secret");
    assert_eq!(loaded.person, "admin@example.com");
    // Debug never shows the token.
    assert!(!format!("{loaded:?}").contains("cus_s_secret"));

    let file = path.display().to_string();
    let same = env(&[("CUSTODIAN_SESSION_FILE", &file)]);
    assert!(matches!(same.credential().unwrap(), Some(Credential::Session(_))));
    let other = env(&[("CUSTODIAN_SESSION_FILE", &file), ("CUSTODIAN_SERVER", "http://127.0.0.2:8080")]);
    assert!(other.credential().unwrap().is_none(), "a session is never sent to another server");
    // An API key wins over the session.
    let keyed = env(&[("CUSTODIAN_SESSION_FILE", &file), ("CUSTODIAN_API_KEY", "cus_k_x")]);
    assert!(matches!(keyed.credential().unwrap(), Some(Credential::ApiKey(_))));
    assert!(!format!("{:?}", keyed.credential().unwrap()).contains("cus_k_x"));

    // A corrupt file is a clear error, a missing one no session.
    std::fs::write(&path, "not json").unwrap();
    assert!(Session::load(&path).unwrap_err().to_string().contains("log in again"));
    std::fs::remove_file(&path).unwrap();
    assert!(Session::load(&path).unwrap().is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_private_file_refuses_to_overwrite_unless_asked() {
    let dir = temp_dir("private");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out.json");
    drop(private_file(&path, false).unwrap());
    let error = private_file(&path, false).unwrap_err();
    assert!(error.to_string().contains("exists already"), "{error}");
    drop(private_file(&path, true).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plain_http_is_refused_except_to_loopback() {
    assert!(Api::new("http://127.0.0.1:8080", None).is_ok());
    assert!(Api::new("http://localhost:8080", None).is_ok());
    assert!(Api::new("https://custodian.example", None).is_ok());
    let error = Api::new("http://custodian.example", None).unwrap_err();
    assert!(format!("{error:#}").contains("plain http"), "{error:#}");
    assert!(Api::new("not a url", None).is_err());
}

#[test]
fn path_segments_are_percent_encoded_under_the_base_path() {
    let api = Api::new("https://custodian.example/base/", None).unwrap();
    let url = api.url(&["v1", "tenants", "a/b?c"], &[("format", "csv")]).unwrap();
    assert_eq!(url.as_str(), "https://custodian.example/base/v1/tenants/a%2Fb%3Fc?format=csv");
}

#[test]
fn an_api_error_reads_message_then_code_and_a_401_says_how_to_log_in() {
    let failure = ApiFailure { status: 404, code: "not_found".to_owned(), message: "not found".to_owned() };
    assert_eq!(failure.to_string(), "not found (not_found)");
    let failure = ApiFailure {
        status: 401,
        code: "unauthenticated".to_owned(),
        message: "authentication required".to_owned(),
    };
    assert!(failure.to_string().starts_with("authentication required (unauthenticated): log in with"));
    assert!(failure.to_string().contains("CUSTODIAN_API_KEY"));
}

#[test]
fn the_environment_debug_shows_variable_names_never_values() {
    let e = env(&[("CUSTODIAN_API_KEY", "cus_k_topsecret"), ("CUSTODIAN_MASTER_KEY", "bWFzdGVy")]);
    let shown = format!("{e:?}");
    assert!(shown.contains("CUSTODIAN_API_KEY"), "{shown}");
    assert!(!shown.contains("cus_k_topsecret") && !shown.contains("bWFzdGVy"), "{shown}");
}
