//! The simulator's printed configuration is one `custodian` accepts: all five adapters are built against
//! the running simulator's base URLs.

use std::collections::BTreeMap;

use custodian_core::platform::Platform;

use super::*;

#[tokio::test]
async fn the_printed_simulator_configuration_wires_all_five_platforms() {
    let running =
        Sim::new(custodian_sim::SimConfig::default()).start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let platforms = sim_platforms(running.base_url());
    assert_eq!(
        platforms.iter().map(|p| p.prefix).collect::<Vec<_>>(),
        ["/meta", "/tiktok", "/tiktok-shop", "/amazon", "/ebay"]
    );
    let dir = std::env::temp_dir().join(format!("custodian-cli-sim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("custodian.toml");
    std::fs::write(&file, sim_toml(&platforms)).unwrap();
    let env = BTreeMap::from([("CUSTODIAN_DATA_DIR".to_owned(), dir.join("data").display().to_string())]);
    let config = Config::load(Some(&file), &env).unwrap();
    assert!(config.outbound.allow_plain_http_loopback);
    let runtime = Runtime::build(config).await.unwrap();
    let wired: Vec<Platform> = runtime.state().deps().platforms.keys().copied().collect();
    assert_eq!(wired, Platform::ALL.to_vec());
    for p in &platforms {
        let platform: Platform = p.name.parse().unwrap();
        assert_eq!(runtime.state().deps().platforms[&platform].authorizer.platform(), platform);
    }
    runtime.close().await;
    running.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
