//! Copying a code: the system clipboard through the platform's own tool
//! (`wl-copy`, `xclip`, `xsel`, `pbcopy`) when one is installed and a display
//! is there, else the terminal's OSC 52 sequence, which most terminals (and
//! tmux, and SSH sessions) turn into a clipboard write.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;

/// How the code reached the clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    /// Through a system clipboard tool.
    System(&'static str),
    /// Through the terminal (OSC 52).
    Terminal,
}

/// The OSC 52 sequence that puts `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

/// Copies `text`, preferring the system clipboard.
pub fn copy(text: &str) -> Copied {
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some();
    let x11 = std::env::var_os("DISPLAY").is_some();
    let tools: [(&'static str, &[&str], bool); 4] = [
        ("wl-copy", &[], wayland),
        ("xclip", &["-selection", "clipboard"], x11),
        ("xsel", &["--clipboard", "--input"], x11),
        ("pbcopy", &[], cfg!(target_os = "macos")),
    ];
    for (tool, args, usable) in tools {
        if !usable {
            continue;
        }
        let child = Command::new(tool)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Ok(mut child) = child {
            let wrote = child
                .stdin
                .take()
                .is_some_and(|mut stdin| stdin.write_all(text.as_bytes()).is_ok());
            if wrote && child.wait().is_ok_and(|status| status.success()) {
                return Copied::System(tool);
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(osc52(text).as_bytes());
    let _ = out.flush();
    Copied::Terminal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_the_code_in_base64() {
        assert_eq!(osc52("123456"), "\x1b]52;c;MTIzNDU2\x07");
    }
}
