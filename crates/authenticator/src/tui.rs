//! The full-screen view: the selected account's code in large grouped
//! digits, a countdown bar, and the accounts as a list at the bottom.
//! [`draw`] is pure (state and time in, frame out) so tests render it with
//! ratatui's `TestBackend` at a fixed time.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, List, ListItem, ListState, Paragraph};

use crate::account::Account;

/// What the view shows.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The accounts.
    pub accounts: Vec<Account>,
    /// Index of the selected account.
    pub selected: usize,
    /// Letters typed to filter the list.
    pub filter: String,
    /// A message on the status line ("Copied …").
    pub status: String,
}

impl View {
    /// Indexes of the accounts the filter lets through.
    pub fn visible(&self) -> Vec<usize> {
        let filter = self.filter.to_lowercase();
        self.accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.display_name().to_lowercase().contains(&filter))
            .map(|(i, _)| i)
            .collect()
    }

    /// Moves the selection by `delta` within the visible accounts.
    pub fn step(&mut self, delta: isize) {
        let visible = self.visible();
        if visible.is_empty() {
            return;
        }
        let position = visible
            .iter()
            .position(|&i| i == self.selected)
            .unwrap_or(0);
        let next = (position as isize + delta).rem_euclid(visible.len() as isize) as usize;
        self.selected = visible.get(next).copied().unwrap_or(0);
    }

    /// Keeps the selection on a visible account after the filter changed.
    pub fn refilter(&mut self) {
        let visible = self.visible();
        if !visible.contains(&self.selected) {
            self.selected = visible.first().copied().unwrap_or(0);
        }
    }
}

/// Five-row block glyphs for the digits, so the code reads from across a desk.
const GLYPHS: [[&str; 5]; 10] = [
    ["█████", "█   █", "█   █", "█   █", "█████"],
    ["  █  ", " ██  ", "  █  ", "  █  ", " ███ "],
    ["█████", "    █", "█████", "█    ", "█████"],
    ["█████", "    █", " ████", "    █", "█████"],
    ["█   █", "█   █", "█████", "    █", "    █"],
    ["█████", "█    ", "█████", "    █", "█████"],
    ["█████", "█    ", "█████", "█   █", "█████"],
    ["█████", "    █", "   █ ", "  █  ", "  █  "],
    ["█████", "█   █", "█████", "█   █", "█████"],
    ["█████", "█   █", "█████", "    █", "█████"],
];

/// The grouped code (`75 091 92`) as five lines of block glyphs.
pub fn big_digits(grouped: &str) -> Vec<String> {
    (0..5)
        .map(|row| {
            grouped
                .chars()
                .map(
                    |c| match c.to_digit(10).and_then(|d| GLYPHS.get(d as usize)) {
                        Some(glyph) => format!("{} ", glyph.get(row).copied().unwrap_or("")),
                        None => "   ".to_owned(),
                    },
                )
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect()
}

/// The code and seconds left for an account at `now` (`None` for HOTP,
/// whose code does not expire).
pub fn current(account: &Account, now: u64) -> (String, Option<u32>, u32) {
    match account.to_uri() {
        Ok(uri) => match uri.to_totp() {
            Some(totp) => {
                let code = totp.generate(now).map(|c| c.grouped()).unwrap_or_default();
                let period = totp.period().seconds();
                (code, Some(totp.seconds_left(now)), period)
            }
            None => ("press Enter for a code".into(), None, 1),
        },
        Err(_) => ("damaged entry".into(), None, 1),
    }
}

/// Renders the view at `now`.
pub fn draw(frame: &mut Frame, view: &View, now: u64) {
    let [title, code, bar, list, help] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(7),
        Constraint::Length(3),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());

    let selected = view.accounts.get(view.selected);
    let name = selected.map_or("No accounts: run `authenticator add`".to_owned(), |a| {
        format!("{} token is:", a.short_name())
    });
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            name,
            Style::new().add_modifier(Modifier::BOLD),
        )))
        .alignment(Alignment::Center),
        title,
    );
    if let Some(account) = selected {
        let (grouped, left, period) = current(account, now);
        let mut lines: Vec<Line> = big_digits(&grouped).into_iter().map(Line::from).collect();
        lines.push(Line::from(grouped.clone()));
        frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), code);
        if let Some(left) = left {
            let ratio = f64::from(left) / f64::from(period.max(1));
            frame.render_widget(
                Gauge::default()
                    .block(Block::new().borders(Borders::ALL))
                    .ratio(ratio.clamp(0.0, 1.0))
                    .label(format!("expires in {left}s")),
                bar,
            );
        }
    }
    let visible = view.visible();
    let items: Vec<ListItem> = visible
        .iter()
        .filter_map(|&i| view.accounts.get(i))
        .map(|a| ListItem::new(a.display_name()))
        .collect();
    let mut state =
        ListState::default().with_selected(visible.iter().position(|&i| i == view.selected));
    let title = if view.filter.is_empty() {
        " Accounts ".to_owned()
    } else {
        format!(" Accounts matching \"{}\" ", view.filter)
    };
    frame.render_stateful_widget(
        List::new(items)
            .block(Block::new().borders(Borders::ALL).title(title))
            .highlight_symbol("> ")
            .highlight_style(Style::new().add_modifier(Modifier::REVERSED)),
        list,
        &mut state,
    );
    let status = if view.status.is_empty() {
        "↑/↓ choose · type to filter · c copy · q quit".to_owned()
    } else {
        view.status.clone()
    };
    frame.render_widget(Paragraph::new(status), help);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn account(issuer: &str, digits: u8) -> Account {
        Account {
            id: String::new(),
            issuer: Some(issuer.into()),
            label: "smith".into(),
            // RFC 6238's SHA1 seed.
            secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
            algorithm: "SHA1".into(),
            digits,
            period: Some(30),
            counter: None,
        }
    }

    fn screen(view: &View, now: u64) -> String {
        let mut terminal = Terminal::new(TestBackend::new(60, 22)).unwrap();
        terminal.draw(|frame| draw(frame, view, now)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol().to_owned())
                    .collect::<String>()
                    .trim_end()
                    .to_owned()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_screen_at_a_fixed_time_shows_code_countdown_and_list() {
        let view = View {
            accounts: vec![account("drchrono", 7), account("Main St Clinic", 6)],
            selected: 0,
            ..View::default()
        };
        // T = 59: RFC 6238's SHA1 8-digit code is 94287082, so 7 digits are 4287082.
        let text = screen(&view, 59);
        assert!(text.contains("drchrono token is:"), "{text}");
        assert!(text.contains("42 870 82"), "{text}");
        assert!(text.contains("expires in 1s"), "{text}");
        assert!(text.contains("> drchrono (smith)"), "{text}");
        assert!(text.contains("Main St Clinic (smith)"), "{text}");
        for row in big_digits("42 870 82") {
            assert!(
                text.contains(row.trim()),
                "missing glyph row {row:?}\n{text}"
            );
        }
        let expected_top = "█   █ █████    █████ █████ █████    █████ █████";
        assert_eq!(big_digits("42 870 82")[0], expected_top);
    }

    #[test]
    fn typing_filters_and_arrows_wrap_within_the_filter() {
        let mut view = View {
            accounts: vec![
                account("drchrono", 6),
                account("Main St Clinic", 6),
                account("Dental", 6),
            ],
            ..View::default()
        };
        view.filter = "d".into();
        view.refilter();
        assert_eq!(view.visible(), vec![0, 2]);
        view.step(1);
        assert_eq!(view.selected, 2);
        view.step(1);
        assert_eq!(view.selected, 0);
        let text = screen(&view, 1_000);
        assert!(text.contains("Accounts matching \"d\""), "{text}");
        assert!(!text.contains("Main St Clinic"), "{text}");
    }
}
