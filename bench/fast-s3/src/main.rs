//! `fast-s3 <root>`: an S3 endpoint on 127.0.0.1 (a free port, printed as the first line of
//! stdout) storing objects as files under `<root>/<bucket>/<key>`; credentials `test`/`test`.

use std::error::Error;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use s3s_fs::FileSystem;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let root = std::env::args().nth(1).ok_or("usage: fast-s3 <root>")?;
    let fs = FileSystem::new(&root).map_err(|e| format!("{root}: {e:?}"))?;
    let mut service = S3ServiceBuilder::new(fs);
    service.set_auth(SimpleAuth::from_single("test", "test"));
    let service = service.build();

    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    println!("http://{}", listener.local_addr()?);
    let http = Builder::new(TokioExecutor::new());
    loop {
        let (socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        let conn = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
        tokio::spawn(async move {
            // A client that goes away mid-response is not the server's failure.
            let _ = conn.await;
        });
    }
}
