//! The canonical stream: message start, explicitly opened and closed blocks, deltas, the final
//! stop reason with usage, and errors.
//!
//! Invariants every decoder upholds and every encoder may rely on: `MessageStart` comes first;
//! blocks are indexed 0..n in order, each opened by `BlockStart` before its deltas and closed by
//! `BlockStop`, at most one open at a time; deltas match their block's kind; `MessageDelta` comes
//! after the last block is closed, then `MessageStop`. `Error` may come at any point and ends the
//! stream.

use super::{ApiError, StopReason, Usage};

#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    MessageStart {
        id: String,
        model: String,
        /// Usage known at the start (Anthropic reports input tokens here).
        usage: Usage,
    },
    BlockStart {
        index: usize,
        block: BlockStart,
    },
    BlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    BlockStop {
        index: usize,
    },
    /// Final stop reason and cumulative usage.
    MessageDelta {
        stop_reason: Option<StopReason>,
        stop_sequence: Option<String>,
        usage: Usage,
    },
    MessageStop,
    /// Keep-alive.
    Ping,
    /// An error after the stream began; nothing follows it.
    Error(ApiError),
}

#[derive(Debug, Clone, PartialEq)]
pub enum BlockStart {
    Text,
    Thinking,
    RedactedThinking { data: String },
    ToolUse { id: String, name: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum BlockDelta {
    Text(String),
    Thinking(String),
    Signature(String),
    /// A piece of a tool call's JSON arguments.
    InputJson(String),
}

impl StreamEvent {
    /// The length of the text a delta carries (zero for other events): what an encoder's output
    /// for it grows with.
    pub fn text_len(&self) -> usize {
        match self {
            StreamEvent::BlockDelta { delta, .. } => match delta {
                BlockDelta::Text(s) | BlockDelta::Thinking(s) | BlockDelta::Signature(s) | BlockDelta::InputJson(s) => {
                    s.len()
                }
            },
            _ => 0,
        }
    }
}

/// Checks a whole event sequence against the invariants above; the first violation, described.
/// Every dialect's stream tests (and the golden tests) hold their decoders to it.
pub fn check_order(events: &[StreamEvent]) -> Result<(), String> {
    let mut open: Option<(usize, &BlockStart)> = None;
    let (mut next, mut delta_seen) = (0, false);
    for (i, e) in events.iter().enumerate() {
        let fail = |what: &str| Err(format!("event {i} ({e:?}): {what}"));
        match e {
            StreamEvent::MessageStart { .. } if i != 0 => return fail("message start is not first"),
            StreamEvent::MessageStart { .. } | StreamEvent::Ping => {}
            StreamEvent::BlockStart { index, block } => {
                if open.is_some() || delta_seen {
                    return fail("block opened while another is open or after the message delta");
                }
                if *index != next {
                    return fail("block index out of order");
                }
                open = Some((*index, block));
            }
            StreamEvent::BlockDelta { index, delta } => {
                let Some((oi, kind)) = open else { return fail("delta outside a block") };
                let fits = matches!(
                    (kind, delta),
                    (BlockStart::Text, BlockDelta::Text(_))
                        | (BlockStart::Thinking, BlockDelta::Thinking(_) | BlockDelta::Signature(_))
                        | (BlockStart::ToolUse { .. }, BlockDelta::InputJson(_))
                );
                if *index != oi || !fits {
                    return fail("delta of another block or of the wrong kind");
                }
            }
            StreamEvent::BlockStop { index } => {
                if open.take().map(|o| o.0) != Some(*index) {
                    return fail("stop of a block that is not open");
                }
                next += 1;
            }
            StreamEvent::MessageDelta { .. } => {
                if open.is_some() {
                    return fail("message delta while a block is open");
                }
                delta_seen = true;
            }
            StreamEvent::MessageStop | StreamEvent::Error(_) if i != events.len() - 1 => {
                return fail("events after the end");
            }
            StreamEvent::MessageStop if !delta_seen => return fail("message stop without a message delta"),
            StreamEvent::MessageStop | StreamEvent::Error(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_order_catches_each_violation() {
        let start = StreamEvent::MessageStart { id: "m".into(), model: "x".into(), usage: Usage::default() };
        let open = StreamEvent::BlockStart { index: 0, block: BlockStart::Text };
        let text = StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Text("a".into()) };
        let stop = StreamEvent::BlockStop { index: 0 };
        let delta = StreamEvent::MessageDelta { stop_reason: None, stop_sequence: None, usage: Usage::default() };
        let good = [start.clone(), open.clone(), text.clone(), stop.clone(), delta.clone(), StreamEvent::MessageStop];
        assert_eq!(check_order(&good), Ok(()));
        let json = StreamEvent::BlockDelta { index: 0, delta: BlockDelta::InputJson("{".into()) };
        for bad in [
            vec![open.clone(), start.clone()],
            vec![start.clone(), text.clone()],
            vec![start.clone(), open.clone(), json],
            vec![start.clone(), open.clone(), open.clone()],
            vec![start.clone(), StreamEvent::BlockStart { index: 1, block: BlockStart::Text }],
            vec![start.clone(), open.clone(), delta.clone()],
            vec![start.clone(), StreamEvent::MessageStop],
            vec![start.clone(), StreamEvent::MessageStop, StreamEvent::Ping],
        ] {
            assert!(check_order(&bad).is_err(), "{bad:?}");
        }
    }
}
