//! Response bodies: bytes already in memory, a stored file read a slice at a time, or an
//! object's frames as its store sends them, so that
//! serving a recording of a hundred megabytes holds one slice of it, not all of it.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tokio::io::{AsyncRead, ReadBuf};

/// How much of a file one frame carries.
const SLICE: usize = 64 * 1024;

/// The body of every response.
pub enum RespBody {
    /// In memory (JSON, the app's files); `None` once sent.
    Full(Option<Bytes>),
    /// `remaining` bytes of a file, from where it was opened at.
    File {
        file: tokio::fs::File,
        remaining: u64,
    },
    /// Frames from elsewhere as they arrive (an object in a bucket).
    Stream(Pin<Box<dyn hyper::body::Body<Data = Bytes, Error = std::io::Error> + Send + Sync>>),
}

impl RespBody {
    pub fn full(bytes: impl Into<Bytes>) -> RespBody {
        RespBody::Full(Some(bytes.into()))
    }

    pub fn empty() -> RespBody {
        RespBody::Full(None)
    }

    /// `length` bytes of `file` from `start`: opened, positioned and measured where blocking
    /// is allowed.
    pub async fn file_range(
        path: std::path::PathBuf,
        start: u64,
        length: u64,
    ) -> std::io::Result<RespBody> {
        let file = tokio::task::spawn_blocking(move || {
            use std::io::Seek;
            let mut file = std::fs::File::open(path)?;
            file.seek(std::io::SeekFrom::Start(start))?;
            Ok::<_, std::io::Error>(file)
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(RespBody::File {
            file: tokio::fs::File::from_std(file),
            remaining: length,
        })
    }
}

impl hyper::body::Body for RespBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            RespBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            RespBody::Stream(body) => body.as_mut().poll_frame(cx),
            RespBody::File { file, remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let want = usize::try_from(*remaining).map_or(SLICE, |r| r.min(SLICE));
                let mut slice = vec![0u8; want];
                let mut buf = ReadBuf::new(&mut slice);
                match Pin::new(file).poll_read(cx, &mut buf) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
                    Poll::Ready(Ok(())) => {
                        let n = buf.filled().len();
                        if n == 0 {
                            // The file is shorter than it was when the response began.
                            return Poll::Ready(Some(Err(std::io::Error::from(
                                std::io::ErrorKind::UnexpectedEof,
                            ))));
                        }
                        *remaining -= n as u64;
                        slice.truncate(n);
                        Poll::Ready(Some(Ok(Frame::data(Bytes::from(slice)))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RespBody::Full(bytes) => bytes.as_ref().is_none_or(|b| b.is_empty()),
            RespBody::File { remaining, .. } => *remaining == 0,
            RespBody::Stream(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RespBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            RespBody::File { remaining, .. } => SizeHint::with_exact(*remaining),
            RespBody::Stream(body) => body.size_hint(),
        }
    }
}
