//! Building blocks for plausible site content: words, names, dates, HTML, PHP `serialize()`
//! and `json_encode()` output. Everything here produces *unescaped* column values; escaping
//! for the dump is the writer's last step, as it is in mariadb-dump.

use std::fmt::Write as _;

use rand::rngs::ChaCha8Rng;
use rand::seq::IndexedRandom;
use rand::RngExt;

/// Words for running text: mostly English and German, with the non-ASCII letters, apostrophes
/// and quotes a European site has.
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "the", "and", "of", "to", "in", "is", "for", "on", "with", "our", "we", "you", "this", "that",
    "event", "members", "club", "season", "tickets", "stage", "concert", "summer", "evening",
    "programme", "volunteers", "festival", "garden", "meeting", "report", "photos", "weekend",
    "community", "music", "theatre", "open-air", "children", "family", "registration", "update",
    "news", "board", "annual", "general", "assembly", "thanks", "support", "city", "park", "it's",
    "don't", "we're", "there's", "let's", "you'll", "isn't", "can't", "und", "der", "die", "das",
    "mit", "für", "über", "auf", "im", "ein", "eine", "wir", "Veranstaltung", "Mitglieder",
    "Verein", "Bühne", "Sommer", "Konzert", "Grüße", "Straße", "Größe", "Jahreshauptversammlung",
    "Anmeldung", "Eintritt", "frei", "schön", "Öffnungszeiten", "Übersicht", "Änderung", "Spaß",
    "Fußball", "Führung", "Künstler", "Familie", "Kinder", "café", "élan", "déjà", "naïve",
    "façade", "rendez-vous", "l'été", "piñata", "Zoë", "2024", "2023", "10", "15:00", "20", "€",
    "5,50", "–", "…", "&amp;", "&nbsp;",
];

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "Anna", "Bernd", "Zoë", "Jürgen", "Marie", "Lukas", "Sophie", "Émile", "Øyvind", "Chloé",
    "Mehmet", "Ayşe", "Li", "Kenji", "Olga", "Pedro", "Fatima", "Sören", "Renée", "Jan", "Eva",
    "Thomas", "Sabine", "Michael", "Julia", "Peter", "Claudia", "Björn", "Ines", "Noah", "Mia",
];

#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "Müller", "Schmidt", "Beispiel", "Weiß", "O'Brien", "Dubois", "García", "Nowak", "Yılmaz",
    "Schäfer", "Becker", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Braun", "Zimmermann", "Krüger", "D'Angelo", "van der Berg", "Jensen", "Kowalski", "Sato",
];

const EXTERNAL: &[&str] = &[
    "https://de.wikipedia.org/wiki/Freilichtb%C3%BChne",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://wordpress.org/plugins/contact-form-7/",
    "https://www.openstreetmap.org/#map=17/51.67/7.82",
    "https://www.facebook.com/example.verein",
    "https://www.instagram.com/example_verein/",
    "https://goo.gl/maps/abc123",
    "http://www.partner-verein.example.net/termine.html",
];

pub const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "WordPress/6.4.2; https://www.partner-verein.example.net",
    "",
];

/// The seeded source of everything random, plus shared helpers.
pub struct Text {
    pub rng: ChaCha8Rng,
    pub site: &'static str,
}

impl Text {
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng.random_range(lo..hi)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from.choose(&mut self.rng).copied().unwrap_or("")
    }

    pub fn word(&mut self) -> &'static str {
        self.pick(WORDS)
    }

    pub fn first_name(&mut self) -> &'static str {
        self.pick(FIRST_NAMES)
    }

    pub fn last_name(&mut self) -> &'static str {
        self.pick(LAST_NAMES)
    }

    pub fn external_url(&mut self) -> &'static str {
        self.pick(EXTERNAL)
    }

    /// `n` lowercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        for _ in 0..n {
            let d = self.range(0, 16) as u32;
            s.push(char::from_digit(d, 16).unwrap_or('0'));
        }
        s
    }

    /// Characters from phpass's alphabet, as in `$P$B…` password hashes.
    pub fn phpass(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..n)
            .map(|_| ALPHABET[self.range(0, ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// A few words, as in a title: `lo..hi` words, the first capitalized.
    pub fn words(&mut self, out: &mut String, lo: u64, hi: u64) {
        let n = self.range(lo, hi);
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            let w = self.word();
            if i == 0 {
                capitalize_into(out, w);
            } else {
                out.push_str(w);
            }
        }
    }

    pub fn title(&mut self) -> String {
        let mut s = String::new();
        self.words(&mut s, 2, 8);
        s
    }

    /// One sentence; sometimes quoted speech, sometimes a link (`links` adds `<a>` tags).
    pub fn sentence(&mut self, out: &mut String, links: bool) {
        let n = self.range(6, 20);
        let quote_at = if self.chance(0.06) {
            self.range(0, n)
        } else {
            n
        };
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            if i == quote_at {
                out.push('"');
                self.words(out, 1, 4);
                out.push('"');
                continue;
            }
            if links && self.chance(0.006) {
                self.link(out);
                continue;
            }
            let w = self.word();
            if i == 0 {
                capitalize_into(out, w);
            } else {
                out.push_str(w);
            }
        }
        out.push_str(if self.chance(0.1) { "!" } else { "." });
    }

    /// An `<a>` element: usually to a page of the site, sometimes elsewhere.
    pub fn link(&mut self, out: &mut String) {
        out.push_str("<a href=\"");
        if self.chance(0.75) {
            self.site_page_url(out);
        } else {
            let url = self.external_url();
            out.push_str(url);
            out.push_str("\" target=\"_blank\" rel=\"noreferrer noopener");
        }
        out.push_str("\">");
        self.words(out, 1, 4);
        out.push_str("</a>");
    }

    /// A permalink on the site, e.g. `https://www.example.com/2023/05/sommerfest-im-park/`.
    pub fn site_page_url(&mut self, out: &mut String) {
        out.push_str(self.site);
        match self.range(0, 4) {
            0 => {
                let _ = write!(out, "/{}/{:02}/", self.range(2012, 2025), self.range(1, 13));
            }
            1 => out.push_str("/veranstaltungen/"),
            2 => out.push_str("/category/news/"),
            _ => out.push('/'),
        }
        let slug = self.slug();
        out.push_str(&slug);
        out.push('/');
    }

    /// An uploaded file's URL and its `YYYY/MM/name` part.
    pub fn upload(&mut self, ext: &str) -> (String, String) {
        let file = format!(
            "{}/{:02}/{}-{}.{ext}",
            self.range(2012, 2025),
            self.range(1, 13),
            self.slug(),
            self.range(1, 999)
        );
        (format!("{}/wp-content/uploads/{file}", self.site), file)
    }

    /// A URL-safe slug from two to five words.
    pub fn slug(&mut self) -> String {
        let mut words = String::new();
        self.words(&mut words, 2, 6);
        slugify(&words)
    }

    /// `YYYY-MM-DD HH:MM:SS` somewhere between 2012 and 2025.
    pub fn datetime(&mut self) -> i64 {
        self.range(1_325_376_000, 1_735_689_600) as i64
    }

    /// An IPv4 or IPv6 address from the documentation ranges.
    pub fn ip(&mut self) -> String {
        match self.range(0, 4) {
            0 => format!("192.0.2.{}", self.range(1, 255)),
            1 => format!("198.51.100.{}", self.range(1, 255)),
            2 => format!("203.0.113.{}", self.range(1, 255)),
            _ => format!(
                "2001:db8::{:x}:{:x}",
                self.range(1, 0xffff),
                self.range(1, 0xffff)
            ),
        }
    }

    /// Gutenberg block markup (or, for older posts, classic-editor HTML with CRLF line ends)
    /// of about `len` bytes, with links and images on the site.
    pub fn post_html(&mut self, out: &mut String, len: usize) {
        let classic = self.chance(0.25);
        let start = out.len();
        while out.len() - start < len {
            let block = self.range(0, 100);
            if classic {
                match block {
                    0..=9 => {
                        let (url, _) = self.upload("jpg");
                        let id = self.range(10, 50_000);
                        let _ = write!(
                            out,
                            "[caption id=\"attachment_{id}\" align=\"aligncenter\" width=\"300\"]<img class=\"size-medium wp-image-{id}\" src=\"{url}\" alt=\"\" width=\"300\" height=\"200\" /> "
                        );
                        self.words(out, 2, 6);
                        out.push_str("[/caption]\r\n\r\n");
                    }
                    10..=14 => {
                        out.push_str("<h3>");
                        self.words(out, 2, 6);
                        out.push_str("</h3>\r\n");
                    }
                    _ => {
                        for _ in 0..self.range(1, 5) {
                            self.sentence(out, true);
                            out.push(' ');
                        }
                        out.push_str("\r\n\r\n");
                    }
                }
                continue;
            }
            match block {
                0..=11 => {
                    let (url, _) = self.upload("jpg");
                    let id = self.range(10, 50_000);
                    let _ = write!(
                        out,
                        "<!-- wp:image {{\"id\":{id},\"sizeSlug\":\"large\",\"linkDestination\":\"none\"}} -->\n<figure class=\"wp-block-image size-large\"><img src=\"{}\" alt=\"\" class=\"wp-image-{id}\"/></figure>\n<!-- /wp:image -->\n\n",
                        url.replace(".jpg", "-1024x683.jpg")
                    );
                }
                12..=21 => {
                    out.push_str("<!-- wp:heading -->\n<h2 class=\"wp-block-heading\">");
                    self.words(out, 2, 7);
                    out.push_str("</h2>\n<!-- /wp:heading -->\n\n");
                }
                22..=28 => {
                    out.push_str("<!-- wp:list -->\n<ul class=\"wp-block-list\">");
                    for _ in 0..self.range(2, 7) {
                        out.push_str("<!-- wp:list-item -->\n<li>");
                        self.words(out, 2, 9);
                        out.push_str("</li>\n<!-- /wp:list-item -->\n\n");
                    }
                    out.push_str("</ul>\n<!-- /wp:list -->\n\n");
                }
                29..=30 => {
                    out.push_str("<!-- wp:embed {\"url\":\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\",\"type\":\"video\",\"providerNameSlug\":\"youtube\",\"responsive\":true} -->\n<figure class=\"wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube\"><div class=\"wp-block-embed__wrapper\">\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n</div></figure>\n<!-- /wp:embed -->\n\n");
                }
                31..=33 => {
                    out.push_str("<!-- wp:buttons -->\n<div class=\"wp-block-buttons\"><!-- wp:button -->\n<div class=\"wp-block-button\"><a class=\"wp-block-button__link wp-element-button\" href=\"");
                    self.site_page_url(out);
                    out.push_str("\">");
                    self.words(out, 1, 4);
                    out.push_str("</a></div>\n<!-- /wp:button --></div>\n<!-- /wp:buttons -->\n\n");
                }
                34..=36 => {
                    out.push_str("<!-- wp:quote -->\n<blockquote class=\"wp-block-quote\"><!-- wp:paragraph -->\n<p>");
                    self.sentence(out, false);
                    out.push_str("</p>\n<!-- /wp:paragraph --><cite>");
                    let (f, l) = (self.first_name(), self.last_name());
                    let _ = write!(out, "{f} {l}");
                    out.push_str("</cite></blockquote>\n<!-- /wp:quote -->\n\n");
                }
                _ => {
                    out.push_str("<!-- wp:paragraph -->\n<p>");
                    for i in 0..self.range(1, 6) {
                        if i > 0 {
                            out.push(' ');
                        }
                        self.sentence(out, true);
                    }
                    out.push_str("</p>\n<!-- /wp:paragraph -->\n\n");
                }
            }
        }
    }

    /// Elementor's `_elementor_data`: `json_encode()` output (escaped slashes, `\uXXXX` for
    /// non-ASCII) of sections, columns and widgets, about `len` bytes.
    pub fn elementor_json(&mut self, len: usize) -> String {
        let mut out = String::from("[");
        let mut first_section = true;
        while out.len() < len {
            if !first_section {
                out.push(',');
            }
            first_section = false;
            let _ = write!(
                out,
                "{{\"id\":\"{}\",\"elType\":\"section\",\"settings\":{{\"background_background\":\"classic\",\"background_image\":{{\"url\":",
                self.hex(7)
            );
            let (bg, _) = self.upload("jpg");
            json_str(&mut out, &bg);
            let _ = write!(
                out,
                ",\"id\":{},\"size\":\"\"}},\"layout\":\"boxed\"}},\"elements\":[",
                self.range(10, 50_000)
            );
            let columns = self.range(1, 4);
            for c in 0..columns {
                if c > 0 {
                    out.push(',');
                }
                let _ = write!(
                    out,
                    "{{\"id\":\"{}\",\"elType\":\"column\",\"settings\":{{\"_column_size\":{}}},\"elements\":[",
                    self.hex(7),
                    100 / columns
                );
                for w in 0..self.range(1, 5) {
                    if w > 0 {
                        out.push(',');
                    }
                    self.elementor_widget(&mut out);
                }
                out.push_str("],\"isInner\":false}");
            }
            out.push_str("],\"isInner\":false}");
        }
        out.push(']');
        out
    }

    fn elementor_widget(&mut self, out: &mut String) {
        let _ = write!(
            out,
            "{{\"id\":\"{}\",\"elType\":\"widget\",\"settings\":{{",
            self.hex(7)
        );
        let kind = match self.range(0, 10) {
            0..=3 => {
                let mut html = String::from("<p>");
                for _ in 0..self.range(1, 6) {
                    self.sentence(&mut html, true);
                    html.push(' ');
                }
                html.push_str("</p>");
                out.push_str("\"editor\":");
                json_str(out, &html);
                "text-editor"
            }
            4..=5 => {
                out.push_str("\"title\":");
                let t = self.title();
                json_str(out, &t);
                out.push_str(",\"header_size\":\"h3\"");
                "heading"
            }
            6..=7 => {
                let (url, _) = self.upload("jpg");
                out.push_str("\"image\":{\"url\":");
                json_str(out, &url);
                let _ = write!(
                    out,
                    ",\"id\":{},\"alt\":\"\",\"source\":\"library\"}}",
                    self.range(10, 50_000)
                );
                out.push_str(",\"link_to\":\"custom\",\"link\":{\"url\":");
                let mut page = String::new();
                self.site_page_url(&mut page);
                json_str(out, &page);
                out.push_str(",\"is_external\":\"\",\"nofollow\":\"\"}");
                "image"
            }
            8 => {
                out.push_str("\"text\":");
                let t = self.title();
                json_str(out, &t);
                out.push_str(",\"link\":{\"url\":");
                let mut page = String::new();
                self.site_page_url(&mut page);
                json_str(out, &page);
                out.push_str(",\"is_external\":\"on\",\"nofollow\":\"\"}");
                "button"
            }
            _ => {
                out.push_str("\"youtube_url\":");
                json_str(out, "https://www.youtube.com/watch?v=XHOmBV4js_E");
                "video"
            }
        };
        let _ = write!(out, "}},\"elements\":[],\"widgetType\":\"{kind}\"}}");
    }
}

/// Appends `s` as PHP's `json_encode()` writes a string by default: `\/`, `\"`, `\\`, control
/// characters and everything outside ASCII as `\uXXXX` (UTF-16).
pub fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// PHP `serialize()` output, written piece by piece. Lengths are bytes, as PHP counts them.
pub struct Ser<'a>(pub &'a mut String);

impl Ser<'_> {
    pub fn str(&mut self, s: &str) -> &mut Self {
        let _ = write!(self.0, "s:{}:\"{s}\";", s.len());
        self
    }
    pub fn int(&mut self, i: i64) -> &mut Self {
        let _ = write!(self.0, "i:{i};");
        self
    }
    pub fn bool(&mut self, b: bool) -> &mut Self {
        let _ = write!(self.0, "b:{};", u8::from(b));
        self
    }
    pub fn float(&mut self, f: &str) -> &mut Self {
        let _ = write!(self.0, "d:{f};");
        self
    }
    pub fn null(&mut self) -> &mut Self {
        self.0.push_str("N;");
        self
    }
    /// `a:n:{`; the caller writes `n` key/value pairs and calls [`Ser::end`].
    pub fn array(&mut self, n: usize) -> &mut Self {
        let _ = write!(self.0, "a:{n}:{{");
        self
    }
    /// `O:len:"class":n:{`.
    pub fn object(&mut self, class: &str, n: usize) -> &mut Self {
        let _ = write!(self.0, "O:{}:\"{class}\":{n}:{{", class.len());
        self
    }
    pub fn end(&mut self) -> &mut Self {
        self.0.push('}');
        self
    }
    /// A string key and a string value.
    pub fn kv(&mut self, k: &str, v: &str) -> &mut Self {
        self.str(k).str(v)
    }
    /// A string key and an integer value.
    pub fn ki(&mut self, k: &str, v: i64) -> &mut Self {
        self.str(k).int(v)
    }
}

/// Serialized value built by `f`.
pub fn ser(f: impl FnOnce(&mut Ser<'_>)) -> String {
    let mut s = String::new();
    f(&mut Ser(&mut s));
    s
}

pub fn capitalize_into(out: &mut String, w: &str) {
    let mut chars = w.chars();
    if let Some(c) = chars.next() {
        out.extend(c.to_uppercase());
        out.push_str(chars.as_str());
    }
}

/// Lowercase ASCII letters and digits joined by `-`, as `sanitize_title()` roughly does.
pub fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            _ if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("post");
    }
    out
}

/// `YYYY-MM-DD HH:MM:SS` for a Unix time (UTC), without a date library.
pub fn format_datetime(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_datetime(0), "1970-01-01 00:00:00");
        assert_eq!(format_datetime(1_704_153_600), "2024-01-02 00:00:00");
        assert_eq!(format_datetime(951_782_400 + 3661), "2000-02-29 01:01:01");
    }

    #[test]
    fn json_like_php() {
        let mut s = String::new();
        json_str(&mut s, "a/b \"c\" ü 😀\n");
        assert_eq!(s, r#""a\/b \"c\" \u00fc \ud83d\ude00\n""#);
    }

    #[test]
    fn serialized_lengths_are_bytes() {
        let v = ser(|s| {
            s.array(1).kv("größe", "Bühne").end();
        });
        assert_eq!(v, "a:1:{s:7:\"größe\";s:6:\"Bühne\";}");
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slugify("Größe der Bühne – it's 2024!"),
            "groesse-der-buehne-it-s-2024"
        );
    }
}
