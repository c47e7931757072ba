//! Content codings, as RFC 9110 §8.4.1 defines them and IANA's HTTP
//! Content Coding Registry lists them: names compared case-insensitively,
//! `x-gzip` and `x-compress` read as `gzip` and `compress`, several codings
//! undone in the reverse of the order they were applied, and a coding this
//! client cannot undo refused by name rather than guessed.
//!
//! reqwest undoes a lone `gzip`, `deflate` (and `br` with the `brotli`
//! feature) itself, written exactly so, and removes the header; whatever it
//! leaves is undone here, once the body was read whole.

use std::io::Read;

use bytes::Bytes;
use reqwest::header::{CONTENT_ENCODING, CONTENT_LENGTH, HeaderMap};

/// What this client does with a coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    /// Nothing to undo.
    Identity,
    /// RFC 1952.
    Gzip,
    /// RFC 1950 (zlib), or raw RFC 1951, which servers send under this
    /// name too.
    Deflate,
    /// RFC 7932 (with the `brotli` feature).
    Brotli,
    /// Registered, but this client has no decoder for it (it never asks
    /// for it in `Accept-Encoding`).
    NoDecoder,
}

/// The IANA HTTP Content Coding Registry, every entry, with its aliases.
pub(crate) const REGISTRY: &[(&str, Coding)] = &[
    ("aes128gcm", Coding::NoDecoder),
    ("br", Coding::Brotli),
    ("compress", Coding::NoDecoder),
    ("dcb", Coding::NoDecoder),
    ("dcz", Coding::NoDecoder),
    ("deflate", Coding::Deflate),
    ("exi", Coding::NoDecoder),
    ("gzip", Coding::Gzip),
    ("identity", Coding::Identity),
    ("pack200-gzip", Coding::NoDecoder),
    ("x-compress", Coding::NoDecoder),
    ("x-gzip", Coding::Gzip),
    ("zstd", Coding::NoDecoder),
];

/// The coding a name in `Content-Encoding` stands for, whatever its case.
pub(crate) fn lookup(name: &str) -> Option<Coding> {
    REGISTRY
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, c)| *c)
}

/// The codings `headers` say were applied, in the order they were.
fn applied(headers: &HeaderMap) -> Vec<String> {
    let mut names = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let text = String::from_utf8_lossy(value.as_bytes());
        names.extend(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    }
    names
}

/// Undoes the codings `headers` name that reqwest left, reading at most
/// `limit` bytes out; then the header (and the coded length) are removed.
/// An error names the coding and why; the body is then left as it came.
pub(crate) fn undo(headers: &mut HeaderMap, body: Bytes, limit: usize) -> Result<Bytes, String> {
    let names = applied(headers);
    if names.is_empty() {
        return Ok(body);
    }
    let mut data = body;
    for name in names.iter().rev() {
        let coding = lookup(name).ok_or_else(|| {
            format!("the answer's Content-Encoding `{name}` is no registered content coding")
        })?;
        data = match coding {
            Coding::Identity => data,
            Coding::Gzip => read_within(flate2::read::MultiGzDecoder::new(&data[..]), limit, name)?,
            Coding::Deflate => read_within(flate2::read::ZlibDecoder::new(&data[..]), limit, name)
                .or_else(|_| {
                    read_within(flate2::read::DeflateDecoder::new(&data[..]), limit, name)
                })?,
            #[cfg(feature = "brotli")]
            Coding::Brotli => read_within(brotli::Decompressor::new(&data[..], 4096), limit, name)?,
            #[cfg(not(feature = "brotli"))]
            Coding::Brotli => {
                return Err(format!(
                    "the answer's Content-Encoding is `{name}`, which this client decodes only with its `brotli` feature (it did not ask for it)"
                ));
            }
            Coding::NoDecoder => {
                return Err(format!(
                    "the answer's Content-Encoding is `{name}`, which this client has no decoder for (it did not ask for it)"
                ));
            }
        };
    }
    headers.remove(CONTENT_ENCODING);
    headers.remove(CONTENT_LENGTH);
    Ok(data)
}

/// Everything `reader` gives, at most `limit` bytes.
fn read_within(reader: impl Read, limit: usize, name: &str) -> Result<Bytes, String> {
    let mut out = Vec::new();
    let read = reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut out);
    match read {
        Err(e) => Err(format!(
            "the answer's body does not decode as its Content-Encoding `{name}` says: {e}"
        )),
        Ok(n) if n > limit => Err(format!(
            "the answer's body, decoded from `{name}`, is larger than the client's limit of {limit} bytes"
        )),
        Ok(_) => Ok(Bytes::from(out)),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// `text` coded as the registry's `coding` says, or `None` where this
    /// client has no decoder for it.
    fn encode(coding: Coding, text: &[u8]) -> Option<Vec<u8>> {
        let level = flate2::Compression::default();
        Some(match coding {
            Coding::Identity => text.to_vec(),
            Coding::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
                e.write_all(text).unwrap();
                e.finish().unwrap()
            }
            Coding::Deflate => {
                let mut e = flate2::write::ZlibEncoder::new(Vec::new(), level);
                e.write_all(text).unwrap();
                e.finish().unwrap()
            }
            #[cfg(feature = "brotli")]
            Coding::Brotli => {
                let mut out = Vec::new();
                {
                    let mut e = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                    e.write_all(text).unwrap();
                }
                out
            }
            _ => return None,
        })
    }

    /// The spellings of a name a server may send: as registered, upper
    /// case, and mixed.
    fn spellings(name: &str) -> [String; 3] {
        let mixed: String = name
            .chars()
            .enumerate()
            .map(|(i, c)| match i % 2 {
                0 => c.to_ascii_uppercase(),
                _ => c,
            })
            .collect();
        [name.to_owned(), name.to_ascii_uppercase(), mixed]
    }

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, value.parse().unwrap());
        h.insert(CONTENT_LENGTH, "7".parse().unwrap());
        h
    }

    /// Every registry entry in every spelling: undone where a decoder
    /// exists, refused by name where not; never guessed.
    #[test]
    fn every_registered_coding_in_every_case() {
        let text = br#"{"secret":"s3cr3t"}"#;
        let mut checked = 0;
        for (name, coding) in REGISTRY {
            for spelled in spellings(name) {
                let mut h = headers(&spelled);
                let coded = encode(*coding, text);
                let body = Bytes::from(coded.clone().unwrap_or_else(|| b"opaque".to_vec()));
                match (coded, undo(&mut h, body, 1 << 20)) {
                    (Some(_), Ok(decoded)) => {
                        assert_eq!(&decoded[..], text, "{spelled}");
                        assert!(h.get(CONTENT_ENCODING).is_none(), "{spelled}");
                    }
                    (None, Err(why)) => {
                        assert!(why.contains(&spelled), "{spelled}: {why}");
                        assert!(h.get(CONTENT_ENCODING).is_some(), "{spelled}");
                    }
                    (coded, got) => {
                        panic!("{spelled}: encoder {:?}, undo {got:?}", coded.is_some())
                    }
                }
                checked += 1;
            }
        }
        assert_eq!(checked, REGISTRY.len() * 3);
    }

    /// Codings applied one after another, in one header or several, are
    /// undone in reverse; `identity` anywhere changes nothing.
    #[test]
    fn stacked_codings_are_undone_in_reverse() {
        let text = b"plain secret text";
        let gz = encode(Coding::Gzip, text).unwrap();
        let deflate_then_gzip =
            encode(Coding::Gzip, &encode(Coding::Deflate, text).unwrap()).unwrap();
        for (header, body) in [
            ("gzip, identity", gz.clone()),
            ("identity, X-GZIP", gz.clone()),
            ("deflate, gzip", deflate_then_gzip.clone()),
            ("Deflate,GZip", deflate_then_gzip),
        ] {
            let mut h = headers(header);
            assert_eq!(
                &undo(&mut h, Bytes::from(body), 1 << 20).unwrap()[..],
                text,
                "{header}"
            );
        }
        // Two header lines are one list.
        let mut h = HeaderMap::new();
        h.append(CONTENT_ENCODING, "deflate".parse().unwrap());
        h.append(CONTENT_ENCODING, "x-gzip".parse().unwrap());
        let body = encode(Coding::Gzip, &encode(Coding::Deflate, text).unwrap()).unwrap();
        assert_eq!(&undo(&mut h, Bytes::from(body), 1 << 20).unwrap()[..], text);
    }

    #[test]
    fn raw_deflate_unknown_names_corrupt_bodies_and_bombs() {
        let text = b"raw deflate, as some servers send it";
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text).unwrap();
        let raw = e.finish().unwrap();
        assert_eq!(
            &undo(&mut headers("DEFLATE"), Bytes::from(raw), 1 << 20).unwrap()[..],
            text
        );
        let why = undo(&mut headers("snappy"), Bytes::from_static(b"x"), 100).unwrap_err();
        assert!(why.contains("`snappy` is no registered"), "{why}");
        let why = undo(&mut headers("gzip"), Bytes::from_static(b"not gzip"), 100).unwrap_err();
        assert!(why.contains("does not decode"), "{why}");
        let zeros = encode(Coding::Gzip, &vec![0u8; 1 << 20]).unwrap();
        let why = undo(&mut headers("x-gzip"), Bytes::from(zeros), 4096).unwrap_err();
        assert!(why.contains("larger than the client's limit"), "{why}");
    }
}
