//! A request-response codec that carries opaque bytes, one request or response per stream,
//! refusing anything longer than its bound before it is read into memory in full. An empty
//! response is an error: a peer that refuses a request closes the stream without a word.

use std::io;

use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

/// Reads and writes whole streams of bytes, at most `max` bytes each way.
#[derive(Clone, Debug)]
pub struct BytesCodec {
    max: usize,
}

impl BytesCodec {
    /// A codec that refuses requests and responses over `max` bytes.
    pub fn new(max: usize) -> Self {
        BytesCodec { max }
    }

    async fn read<T: AsyncRead + Unpin + Send>(&self, io: &mut T) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        // One byte past the bound tells an oversized message from one exactly at it.
        io.take(self.max as u64 + 1).read_to_end(&mut bytes).await?;
        if bytes.len() > self.max {
            // libp2p drops the stream without telling the behaviour, so say it here.
            tracing::warn!(bound = self.max, "refused a message over the size bound");
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("message over the {} byte bound", self.max),
            ));
        }
        Ok(bytes)
    }

    async fn write<T: AsyncWrite + Unpin + Send>(
        &self,
        io: &mut T,
        bytes: &[u8],
    ) -> io::Result<()> {
        if bytes.len() > self.max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refusing to send {} bytes, over the {} byte bound",
                    bytes.len(),
                    self.max
                ),
            ));
        }
        io.write_all(bytes).await?;
        io.close().await
    }
}

impl libp2p::request_response::Codec for BytesCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.read(io).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = self.read(io).await?;
        if bytes.is_empty() {
            // Every Myco response has content: an empty stream is a peer that hung up.
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the peer closed the stream without answering: it refused the request \
                 (over its size bound, or too many waiting) or stopped",
            ));
        }
        Ok(bytes)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.write(io, &request).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.write(io, &response).await
    }
}
