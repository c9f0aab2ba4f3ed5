//! The `-wal` beside a data file, read as SQLite documents its format
//! (<https://www.sqlite.org/fileformat2.html#walformat>): a 32-byte header, then frames of a
//! 24-byte header and one page each, every frame carrying the header's two salts and a
//! checksum that runs on from the frame before it.
//!
//! SQLite itself reads a `-wal` up to its first frame that fails those checks and drops the
//! rest without a word, and takes a missing or empty `-wal` for "nothing since the last
//! checkpoint". That is right after a crash (only a transaction never acknowledged can be cut
//! short), and wrong when the file was lost, emptied or damaged since: [`read`] tells these
//! apart from what the frames themselves say, and the main file's `wal_ahead` flag (see
//! [`super::writer`]) says whether the `-wal` held anything the main file lacks.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The `-wal` beside `data`.
pub(crate) fn path_of(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// What a `-wal` holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wal {
    /// No `-wal` at all.
    Missing,
    /// A `-wal` of 0 bytes (what a checkpoint with TRUNCATE leaves).
    Empty,
    /// A `-wal` whose header and frames are as SQLite wrote them: `frames` whole frames
    /// (the file may go on with frames of an earlier generation, or one cut short).
    Whole { frames: usize },
    /// A `-wal` that was damaged: SQLite would drop what it holds, or part of it.
    Damaged(String),
}

const HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// Reads the `-wal` at `path` (the whole file: it is folded into the main file long before
/// it grows large).
pub(crate) fn read(path: &Path) -> std::io::Result<Wal> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Wal::Missing),
        Err(e) => return Err(e),
    };
    Ok(scan(&bytes))
}

/// Checks the header of the `-wal` at `path` after a commit: `Ok(Some(length))` when it is
/// whole, `Ok(None)` when the file is gone, `Err` with what is wrong otherwise.
pub(crate) fn check_header(path: &Path) -> Result<Option<(u64, FileId)>, String> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("could not be read ({e})")),
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("could not be read ({e})"))?;
    let mut head = [0u8; HEADER];
    file.read_exact(&mut head)
        .map_err(|_| "is shorter than its header".to_owned())?;
    header(&head)?;
    Ok(Some((meta.len(), FileId::of(&meta))))
}

/// Which file a path named (to tell a `-wal` replaced under the server from its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId(u64, u64);

impl FileId {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self(meta.dev(), meta.ino())
    }

    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Self {
        Self(0, 0)
    }
}

/// The header's fields that frames are checked against.
struct Header {
    big_endian: bool,
    page_size: usize,
    salts: [u8; 8],
    checksum: (u32, u32),
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_be_bytes(word)
}

/// SQLite's WAL checksum: over 8-byte steps, two running sums of 32-bit words read in the
/// byte order the header's magic number names.
fn checksum(seed: (u32, u32), data: &[u8], big_endian: bool) -> (u32, u32) {
    let (mut s0, mut s1) = seed;
    for pair in data.chunks_exact(8) {
        let word = |at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&pair[at..at + 4]);
            if big_endian {
                u32::from_be_bytes(w)
            } else {
                u32::from_le_bytes(w)
            }
        };
        s0 = s0.wrapping_add(word(0)).wrapping_add(s1);
        s1 = s1.wrapping_add(word(4)).wrapping_add(s0);
    }
    (s0, s1)
}

fn header(bytes: &[u8]) -> Result<Header, String> {
    let big_endian = match be32(bytes, 0) {
        0x377f_0682 => false,
        0x377f_0683 => true,
        _ => return Err("its header is not a WAL header".to_owned()),
    };
    let page_size = match be32(bytes, 8) {
        1 => 65_536,
        size if (512..=32_768).contains(&size) && size.is_power_of_two() => size as usize,
        _ => return Err("its header names no valid page size".to_owned()),
    };
    let checksum_now = checksum((0, 0), &bytes[..24], big_endian);
    if be32(bytes, 4) != 3_007_000 || checksum_now != (be32(bytes, 24), be32(bytes, 28)) {
        return Err("its header fails its checksum".to_owned());
    }
    let mut salts = [0u8; 8];
    salts.copy_from_slice(&bytes[16..24]);
    Ok(Header {
        big_endian,
        page_size,
        salts,
        checksum: checksum_now,
    })
}

fn scan(bytes: &[u8]) -> Wal {
    if bytes.is_empty() {
        return Wal::Empty;
    }
    if bytes.len() < HEADER {
        return Wal::Damaged("it is shorter than its header".to_owned());
    }
    let head = match header(bytes) {
        Ok(head) => head,
        Err(problem) => return Wal::Damaged(problem),
    };
    let size = FRAME_HEADER + head.page_size;
    let frames: Vec<&[u8]> = bytes[HEADER..].chunks_exact(size).collect();
    // A frame is whole when it carries the header's salts and its checksum runs on from the
    // frame before it.
    let follows = |seed: (u32, u32), frame: &[u8]| {
        let sum = checksum(seed, &frame[..8], head.big_endian);
        let sum = checksum(sum, &frame[FRAME_HEADER..], head.big_endian);
        frame[8..16] == head.salts && sum == (be32(frame, 16), be32(frame, 20))
    };
    let mut seed = head.checksum;
    let mut whole = 0;
    for frame in &frames {
        if !follows(seed, frame) {
            break;
        }
        seed = (be32(frame, 16), be32(frame, 20));
        whole += 1;
    }
    // Past the first broken frame, a commit of the same generation whose checksum runs on
    // from the frame before it was written after the break: the break is damage, not a
    // transaction cut short by a crash (which is always the last one).
    for at in whole + 1..frames.len() {
        let (before, frame) = (frames[at - 1], frames[at]);
        let is_commit = be32(frame, 4) != 0;
        if is_commit && follows((be32(before, 16), be32(before, 20)), frame) {
            return Wal::Damaged(format!(
                "frame {} fails its checksum, and committed frames follow it",
                whole + 1
            ));
        }
    }
    Wal::Whole { frames: whole }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAL of `frames` frames (each a commit) with SQLite's checksums, little-endian.
    fn wal(frames: usize) -> Vec<u8> {
        let page = 512usize;
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0x377f_0682u32.to_be_bytes());
        bytes.extend_from_slice(&3_007_000u32.to_be_bytes());
        bytes.extend_from_slice(&(page as u32).to_be_bytes());
        bytes.extend_from_slice(&0u32.to_be_bytes());
        bytes.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let sum = checksum((0, 0), &bytes, false);
        bytes.extend_from_slice(&sum.0.to_be_bytes());
        bytes.extend_from_slice(&sum.1.to_be_bytes());
        let mut seed = sum;
        for n in 0..frames {
            let mut frame = Vec::new();
            frame.extend_from_slice(&1u32.to_be_bytes());
            frame.extend_from_slice(&1u32.to_be_bytes());
            frame.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
            let data = vec![n as u8; page];
            seed = checksum(checksum(seed, &frame[..8], false), &data, false);
            frame.extend_from_slice(&seed.0.to_be_bytes());
            frame.extend_from_slice(&seed.1.to_be_bytes());
            frame.extend_from_slice(&data);
            bytes.extend_from_slice(&frame);
        }
        bytes
    }

    #[test]
    fn a_whole_wal_counts_its_frames_and_a_cut_tail_is_a_crash_not_damage() {
        assert_eq!(scan(&wal(5)), Wal::Whole { frames: 5 });
        let cut = wal(5);
        assert_eq!(scan(&cut[..cut.len() - 100]), Wal::Whole { frames: 4 });
        let mut torn = wal(5);
        let last = torn.len() - 10;
        torn[last] ^= 1;
        assert_eq!(scan(&torn), Wal::Whole { frames: 4 }, "the last frame torn");
        assert_eq!(scan(&[]), Wal::Empty);
    }

    #[test]
    fn a_flipped_bit_before_later_commits_or_in_the_header_is_damage() {
        let mut flipped = wal(5);
        flipped[HEADER + 2 * (FRAME_HEADER + 512) + 40] ^= 4;
        assert!(matches!(scan(&flipped), Wal::Damaged(m) if m.contains("frame 3")));
        let mut header = wal(5);
        header[20] ^= 4;
        assert!(matches!(scan(&header), Wal::Damaged(m) if m.contains("header")));
        assert!(matches!(scan(&wal(1)[..20]), Wal::Damaged(_)));
    }
}
