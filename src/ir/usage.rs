//! Token usage of one call, in one convention for every dialect.

/// Token counts, Anthropic-style: `input_tokens` excludes cache reads and cache writes, which are
/// counted separately; `output_tokens` includes reasoning tokens, which are also broken out in
/// `reasoning_tokens`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// Prompt tokens that were neither read from nor written to the prompt cache.
    pub input_tokens: u64,
    /// Completion tokens, reasoning included.
    pub output_tokens: u64,
    /// Prompt tokens read from the cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the cache.
    pub cache_write_tokens: u64,
    /// Of `output_tokens`, how many were reasoning.
    pub reasoning_tokens: u64,
}

impl Usage {
    /// All prompt tokens, cached or not (OpenAI's `prompt_tokens`).
    pub fn total_input(&self) -> u64 {
        self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
    }

    /// Takes every non-zero field of `other` (later usage reports are cumulative).
    pub fn merge_max(&mut self, other: &Usage) {
        self.input_tokens = self.input_tokens.max(other.input_tokens);
        self.output_tokens = self.output_tokens.max(other.output_tokens);
        self.cache_read_tokens = self.cache_read_tokens.max(other.cache_read_tokens);
        self.cache_write_tokens = self.cache_write_tokens.max(other.cache_write_tokens);
        self.reasoning_tokens = self.reasoning_tokens.max(other.reasoning_tokens);
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        *self == Usage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_input_counts_cache() {
        let u = Usage { input_tokens: 3, cache_read_tokens: 10, cache_write_tokens: 5, ..Usage::default() };
        assert_eq!(u.total_input(), 18);
    }

    #[test]
    fn merge_keeps_largest() {
        let mut a = Usage { input_tokens: 10, ..Usage::default() };
        a.merge_max(&Usage { output_tokens: 7, ..Usage::default() });
        assert_eq!(a, Usage { input_tokens: 10, output_tokens: 7, ..Usage::default() });
    }
}
