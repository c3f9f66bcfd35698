//! The request body sent upstream: bytes in one or a few pieces, sent as they are. A same-dialect
//! call sends the caller's body with the model (and a field or two) replaced: the pieces are
//! slices of the caller's body around the new values, so the body is never copied (a coding
//! agent's request is often hundreds of kilobytes), and hyper writes them in one `writev`.

use std::borrow::Cow;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// A request body of byte pieces, sent in order.
#[derive(Debug, Default, Clone)]
pub struct UpBody {
    pieces: Vec<Bytes>,
    /// The next piece to send.
    next: usize,
    /// Bytes not sent yet.
    left: u64,
}

impl UpBody {
    /// A body of these pieces, in order (empty ones are skipped).
    pub fn pieces(pieces: Vec<Bytes>) -> UpBody {
        let left = pieces.iter().map(|p| p.len() as u64).sum();
        UpBody { pieces, next: 0, left }
    }

    /// The body's length in bytes (what is left of it once sending started).
    pub fn len(&self) -> usize {
        self.left as usize
    }

    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// The whole body as one run of bytes, for what must read it whole (SigV4 signs it, Claude
    /// on Vertex rewrites it): borrowed when it is one piece, copied only when it is several.
    pub fn contiguous(&self) -> Cow<'_, [u8]> {
        match &self.pieces[self.next.min(self.pieces.len())..] {
            [] => Cow::Borrowed(&[]),
            [one] => Cow::Borrowed(one),
            many => Cow::Owned(many.concat()),
        }
    }
}

impl From<Vec<u8>> for UpBody {
    fn from(v: Vec<u8>) -> UpBody {
        UpBody::from(Bytes::from(v))
    }
}

impl From<Bytes> for UpBody {
    fn from(b: Bytes) -> UpBody {
        UpBody::pieces(vec![b])
    }
}

impl Body for UpBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        while let Some(p) = this.pieces.get_mut(this.next) {
            this.next += 1;
            if !p.is_empty() {
                let p = std::mem::take(p);
                this.left -= p.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(p))));
            }
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn sends_its_pieces_in_order_with_their_exact_length() {
        let body = UpBody::pieces(vec![Bytes::from_static(b"{\"a\":"), Bytes::new(), Bytes::from_static(b"1}")]);
        assert_eq!(body.len(), 7);
        assert_eq!(body.size_hint().exact(), Some(7));
        assert_eq!(&*body.contiguous(), b"{\"a\":1}");
        let mut frames = Vec::new();
        let mut b = body;
        while let Some(f) = b.frame().await {
            frames.push(f.unwrap().into_data().unwrap());
        }
        assert_eq!(frames, [Bytes::from_static(b"{\"a\":"), Bytes::from_static(b"1}")]);
        assert!(b.is_end_stream());
    }

    #[test]
    fn one_piece_is_read_whole_without_a_copy() {
        let bytes = Bytes::from_static(b"{}");
        let body = UpBody::from(bytes.clone());
        assert!(matches!(body.contiguous(), Cow::Borrowed(b) if b.as_ptr() == bytes.as_ptr()));
        assert!(UpBody::default().is_empty());
        assert_eq!(&*UpBody::default().contiguous(), b"");
    }
}
