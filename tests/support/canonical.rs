//! Shared by tests/golden.rs and the stream fuzz target (fuzz/fuzz_targets/common.rs): two
//! translations of one stream compared up to the ids they generated.

/// Generated ids (24 letters and digits) replaced by `ID<n>` in order of first appearance: the
/// order in which the decoder and the encoder draw them depends on how far each got, not their
/// use, so two runs are compared up to a renaming of ids.
pub fn canonical_ids(text: &str) -> String {
    let b = text.as_bytes();
    let (mut out, mut seen, mut i) = (String::with_capacity(text.len()), Vec::<&str>::new(), 0);
    while i < b.len() {
        let mut j = i;
        while j < b.len() && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        if j == i {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let word = &text[i..j];
        if word.len() == 24 && word.bytes().any(|c| c.is_ascii_digit()) {
            let n = seen.iter().position(|w| *w == word).unwrap_or_else(|| {
                seen.push(word);
                seen.len() - 1
            });
            out.push_str(&format!("ID{n}"));
        } else {
            out.push_str(word);
        }
        i = j;
    }
    out
}
