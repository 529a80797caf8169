//! One self-contained HTML page: headings, paragraphs, tables, Markdown and inline SVG plots,
//! with its style sheet in the page and nothing fetched from anywhere, so it reads offline and
//! travels as one file.

use pulldown_cmark::{Options, Parser, html};

/// A piece of a section.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// Plain text (escaped).
    Paragraph(String),
    /// A table: headers and rows of plain text.
    Table(Vec<String>, Vec<Vec<String>>),
    /// Markdown (a `results.md`), rendered to HTML; raw HTML in it is shown as text. An image
    /// whose target is named in `images` (file name, SVG document) is drawn inline; any other
    /// image becomes its alt text, since the page loads nothing from outside.
    Markdown {
        /// The Markdown source.
        text: String,
        /// The images that can be drawn inline, as `(file name, SVG document)` pairs.
        images: Vec<(String, String)>,
    },
    /// An SVG document, drawn inline with a caption.
    Svg {
        /// The caption under the plot (plain text).
        caption: String,
        /// The SVG document.
        svg: String,
    },
    /// Preformatted text folded under a summary line (a config, a JSON file).
    Details {
        /// The summary line, shown while the text is folded.
        summary: String,
        /// The preformatted text.
        text: String,
    },
}

/// A titled part of the page; `level` 2 or deeper.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// The heading, also listed in the table of contents.
    pub title: String,
    /// The heading level, clamped to 2..=6.
    pub level: usize,
    /// The section's content, in order.
    pub blocks: Vec<Block>,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document without its XML prolog, ready to sit inside HTML.
fn inline_svg(svg: &str) -> &str {
    let s = svg.trim_start();
    match (s.starts_with("<?xml"), s.find("?>")) {
        (true, Some(end)) => s[end + 2..].trim_start(),
        _ => s,
    }
}

/// Markdown as HTML, its headings moved below the section's (`# x` under an `<h2>` becomes
/// `<h3>`), its images resolved as [`Block::Markdown`] says.
fn markdown(md: &str, level: usize, images: &[(String, String)]) -> String {
    use pulldown_cmark::{Event, HeadingLevel, Tag, TagEnd};
    let shift =
        |l: HeadingLevel| HeadingLevel::try_from((l as usize + level).min(6)).unwrap_or(HeadingLevel::H6);
    let mut events = Vec::new();
    let mut skip_alt = false;
    for e in Parser::new_ext(md, Options::ENABLE_TABLES) {
        let e = match e {
            // Raw HTML in the Markdown is escaped, not passed through: a results file is data.
            Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
            Event::Start(Tag::Heading {
                level: l,
                id,
                classes,
                attrs,
            }) => Event::Start(Tag::Heading {
                level: shift(l),
                id,
                classes,
                attrs,
            }),
            Event::End(TagEnd::Heading(l)) => Event::End(TagEnd::Heading(shift(l))),
            Event::Start(Tag::Image { dest_url, .. }) => {
                match images.iter().find(|(name, _)| *name == *dest_url) {
                    Some((name, svg)) => {
                        skip_alt = true;
                        Event::InlineHtml(
                            format!(
                                "<figure>{}<figcaption>{}</figcaption></figure>",
                                inline_svg(svg),
                                escape(name)
                            )
                            .into(),
                        )
                    }
                    None => continue,
                }
            }
            Event::End(TagEnd::Image) => {
                skip_alt = false;
                continue;
            }
            Event::Text(_) if skip_alt => continue,
            e => e,
        };
        events.push(e);
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em;border-bottom:2px solid #ccc;padding-bottom:.2em}h2{font-size:1.3em;margin-top:2em;border-bottom:1px solid #ddd}\
h3{font-size:1.1em}h4{font-size:1em}table{border-collapse:collapse;margin:.8em 0;font-size:.9em}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}\
figure{margin:1em 0}figure svg{max-width:100%;height:auto;display:block;border:1px solid #eee}\
figcaption{font-size:.85em;color:#555}pre{background:#f7f7f7;padding:.6em;overflow:auto;font-size:.85em}\
nav ul{columns:2;font-size:.9em}code{background:#f3f3f3;padding:0 .2em}";

/// Counts the drawn plots and any script error into attributes of `<body>` once the page has
/// loaded (`data-plots="drawn/total"`, `data-errors`), which a headless browser can read back.
const CHECK: &str = "window.__droplabErrors=[];window.addEventListener('error',function(e){window.__droplabErrors.push(String(e.message))});\
window.addEventListener('load',function(){var s=document.querySelectorAll('figure svg'),d=0;\
for(var i=0;i<s.length;i++){var b=s[i].getBoundingClientRect();if(b.width>0&&b.height>0&&s[i].querySelectorAll('text,path,polyline,rect,line,circle').length>0)d++}\
document.body.setAttribute('data-plots',d+'/'+s.length);document.body.setAttribute('data-errors',String(window.__droplabErrors.length))});";

/// The whole page: a title, a line under it, a table of contents and the sections.
pub fn page(title: &str, subtitle: &str, sections: &[Section]) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    out.push_str(&format!("<title>{}</title><style>{STYLE}</style>", escape(title)));
    out.push_str(&format!("<script>{CHECK}</script></head>\n<body>\n"));
    out.push_str(&format!(
        "<h1>{}</h1>\n<p>{}</p>\n",
        escape(title),
        escape(subtitle)
    ));
    if sections.len() > 1 {
        out.push_str("<nav><ul>");
        for (i, s) in sections.iter().enumerate() {
            out.push_str(&format!("<li><a href=\"#s{i}\">{}</a></li>", escape(&s.title)));
        }
        out.push_str("</ul></nav>\n");
    }
    for (i, s) in sections.iter().enumerate() {
        let h = s.level.clamp(2, 6);
        out.push_str(&format!(
            "<section id=\"s{i}\"><h{h}>{}</h{h}>\n",
            escape(&s.title)
        ));
        for b in &s.blocks {
            match b {
                Block::Paragraph(t) => out.push_str(&format!("<p>{}</p>\n", escape(t))),
                Block::Table(headers, rows) => {
                    out.push_str("<table>");
                    // A key-value table has no header row.
                    if headers.iter().any(|h| !h.is_empty()) {
                        out.push_str("<thead><tr>");
                        for h in headers {
                            out.push_str(&format!("<th>{}</th>", escape(h)));
                        }
                        out.push_str("</tr></thead>");
                    }
                    out.push_str("<tbody>");
                    for r in rows {
                        out.push_str("<tr>");
                        for c in r {
                            out.push_str(&format!("<td>{}</td>", escape(c)));
                        }
                        out.push_str("</tr>");
                    }
                    out.push_str("</tbody></table>\n");
                }
                Block::Markdown { text, images } => out.push_str(&markdown(text, h, images)),
                Block::Svg { caption, svg } => out.push_str(&format!(
                    "<figure>{}<figcaption>{}</figcaption></figure>\n",
                    inline_svg(svg),
                    escape(caption)
                )),
                Block::Details { summary, text } => out.push_str(&format!(
                    "<details><summary>{}</summary><pre>{}</pre></details>\n",
                    escape(summary),
                    escape(text)
                )),
            }
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_svg_loses_its_prolog() {
        let p = page(
            "a <b> & c",
            "sub",
            &[Section {
                title: "s".into(),
                level: 2,
                blocks: vec![
                    Block::Paragraph("x < y".into()),
                    Block::Table(vec!["h\"".into()], vec![vec!["<td>".into()]]),
                    Block::Svg {
                        caption: "c".into(),
                        svg: "<?xml version=\"1.0\"?>\n<svg viewBox=\"0 0 1 1\"><rect/></svg>".into(),
                    },
                    Block::Markdown {
                        text: "# t\n\n| a | b |\n|---|---|\n| 1 | <script>x</script> |\n\n![the plot](p.svg) ![gone](http://x/y.png)\n".into(),
                        images: vec![("p.svg".into(), "<svg id=\"inlined\"><rect/></svg>".into())],
                    },
                ],
            }],
        );
        assert!(p.contains("<title>a &lt;b&gt; &amp; c</title>"));
        assert!(p.contains("<p>x &lt; y</p>"));
        assert!(p.contains("<th>h&quot;</th>") && p.contains("<td>&lt;td&gt;</td>"));
        assert!(p.contains("<figure><svg viewBox") && !p.contains("<?xml"));
        assert!(p.contains("<table>") && p.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert_eq!(
            p.matches("<script>").count(),
            1,
            "only the page's own check script"
        );
        assert!(
            p.contains("<h3>t</h3>"),
            "a Markdown heading sits below its section's"
        );
        assert!(p.contains("<figure><svg id=\"inlined\"><rect/></svg><figcaption>p.svg"));
        assert!(!p.contains("the plot") && p.contains("gone") && !p.contains("http://x"));
    }
}
