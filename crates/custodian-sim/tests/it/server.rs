//! The server binds loopback only and stops when asked.

use custodian_sim::{Sim, SimConfig, SimError};

#[tokio::test]
async fn refuses_non_loopback_addresses() {
    let result = Sim::new(SimConfig::default()).start("0.0.0.0:0".parse().unwrap()).await;
    assert!(matches!(result, Err(SimError::NotLoopback(_))), "{result:?}");
}

#[tokio::test]
async fn serves_on_loopback_and_stops() {
    let running = Sim::new(SimConfig::default()).start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = running.addr();
    assert!(addr.ip().is_loopback());
    assert_eq!(running.base_url(), format!("http://{addr}"));
    assert_eq!(running.sim.ctx.base_url(), running.base_url());
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    running.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the listener is closed after shutdown");
}
