"""Write the saved article pages and pages.json, the answers the intake test measures against.

    python tests/data/articles/make.py      (rewrites the files next to it)

Every page is made up (texts.py) and dressed in the markup of one kind of site: a US news site
that declares its dates in UTC (JSON-LD, Open Graph, Twitter cards, AMP copies), a WordPress
paper with Open Graph only, a paper with microdata only, a blog with no metadata at all, a wire
with Twitter cards only, an institute with citation_* tags and a PDF, a Chinese, a French and a
German paper, a magazine whose JSON-LD is sometimes malformed, and a syndicated copy. Each page
is written as if saved from its site (https://<site>.example.org/...); the test server serves
it in that site's place, so the page's own absolute addresses are rewritten to the server's.
"""

# ruff: noqa: E501 - the page templates keep their markup on lines as long as real pages do

from __future__ import annotations

import html
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from texts import STORIES  # noqa: E402

SITES = {
    "gazette": ("The Harbour Gazette", "https://gazette.example.org"),
    "northfield": ("Northfield Daily", "https://northfield.example.com"),
    "ledger": ("Riverside Ledger", "https://ledger.example.net"),
    "notes": ("Plain Notes", "https://notes.example.org"),
    "wire": ("Example Wire", "https://wire.example.com"),
    "institute": ("Institute for Example Studies", "https://institute.example.org"),
    "shili": ("示例日报", "https://shili.example.net"),
    "courrier": ("Le Courrier d'Exemple", "https://courrier.example.net"),
    "rundschau": ("Beispielstadt Rundschau", "https://rundschau.example.org"),
    "frame": ("Frame Weekly", "https://frame.example.net"),
    "aggregator": ("Example Aggregator", "https://aggregator.example.com"),
}


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def paragraphs(story: str) -> str:
    return "\n".join(f"      <p>{esc(p)}</p>" for p in STORIES[story][1])


def jsonld(data: dict | list) -> str:
    return ('<script type="application/ld+json">'
            + json.dumps(data, ensure_ascii=False, indent=1) + "</script>")


# -- The Harbour Gazette: an Arc-style US news site --------------------------------------------

def gazette(page: dict) -> str:
    name, origin = SITES["gazette"]
    headline = STORIES[page["story"]][0]
    url = origin + page["path"]
    kind = page.get("type", "NewsArticle")
    article = {"@context": "https://schema.org", "@type": kind, "headline": headline,
               "mainEntityOfPage": {"@type": "WebPage", "@id": url},
               "author": [{"@type": "Person", "name": page.get("author", "Staff")}],
               "image": [f"{origin}/resizer/{page['story']}-1200x675.jpg"],
               "publisher": {"@type": "NewsMediaOrganization", "name": name,
                             "logo": {"@type": "ImageObject",
                                      "url": f"{origin}/pf/resources/logo.png"}}}
    if page.get("published"):
        article["datePublished"] = page["published"]
    article["dateModified"] = page.get("modified", page.get("published", ""))
    data: dict | list = article
    if page.get("graph"):  # Yoast-style: one @graph, the publisher by reference
        article["publisher"] = {"@id": f"{origin}/#organization"}
        data = {"@context": "https://schema.org", "@graph": [
            {"@type": "NewsMediaOrganization", "@id": f"{origin}/#organization", "name": name,
             "url": origin + "/"},
            {"@type": "WebSite", "@id": f"{origin}/#website", "name": name, "url": origin + "/"},
            article]}
    og_title = headline + (" | " + name if page.get("og_suffix") else "")
    shown = ""
    if page.get("shown"):
        shown = (f'<time class="timestamp" datetime="{page["published"]}">'
                 f'{esc(page["shown"])}</time>')
    amp = "" if page.get("no_amp") else f'<link rel="amphtml" href="{origin}/amp{page["path"]}">'
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(headline)} | {esc(name)}</title>
<link rel="canonical" href="{url}">
{amp}
<link rel="preload" href="{origin}/pf/resources/fonts/serif.woff2" as="font" crossorigin>
<meta name="description" content="{esc(STORIES[page['story']][1][0][:150])}">
<meta property="og:type" content="article">
<meta property="og:title" content="{esc(og_title)}">
<meta property="og:url" content="{url}?outputType=share&amp;utm_source=og">
<meta property="og:site_name" content="{esc(name)}">
<meta property="og:image" content="{origin}/resizer/{page['story']}-1200x675.jpg">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:site" content="@harbourgazette">
<meta name="twitter:title" content="{esc(headline)}">
{jsonld(data)}
<script>window.Fusion=window.Fusion||{{}};Fusion.arcSite="gazette";Fusion.deployment="4812";</script>
<style>.story-body p{{font:1.1rem/1.6 Georgia,serif}}.masthead-date{{font-size:.8rem}}</style>
</head>
<body class="article-page">
<header class="site-header">
  <div class="masthead-date">Sunday, February 15, 2026</div>
  <a class="logo" href="{origin}/">{esc(name)}</a>
  <nav><a href="{origin}/local/">Local</a> <a href="{origin}/harbour/">Harbour</a>
  <a href="{origin}/opinion/">Opinion</a> <a href="{origin}/subscribe/?itm_source=nav">Subscribe</a></nav>
</header>
<main id="main">
  <article class="story">
    <header class="story-header">
      <span class="kicker">{esc(page.get('section', 'Local'))}</span>
      <h1 class="headline">{esc(headline)}</h1>
      <div class="byline">By <a href="{origin}/people/{page.get('author', 'Staff').lower().replace(' ', '-')}/">{esc(page.get('author', 'Staff'))}</a></div>
      {shown}
    </header>
    <div class="story-body">
{paragraphs(page['story'])}
      <aside class="related"><h2>Read more</h2><ul>
        <li><a href="{origin}/2025/11/02/harbour-wall-repairs-begin/">Harbour wall repairs begin (Nov. 2, 2025)</a></li>
        <li><a href="{origin}/2025/12/19/ferry-timetable-changes/">Ferry timetable changes for the holidays</a></li>
      </ul></aside>
    </div>
  </article>
</main>
<footer class="site-footer"><p>© 2026 {esc(name)}. All rights reserved.</p>
<a href="{origin}/privacy/">Privacy</a> <a href="{origin}/terms/">Terms of service</a></footer>
<script src="{origin}/pf/dist/engine/react.js?d=4812" defer></script>
</body>
</html>
"""


def gazette_amp(page: dict) -> str:
    name, origin = SITES["gazette"]
    headline = STORIES[page["story"]][0]
    canonical = origin + page["path"].removeprefix("/amp")
    article = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": headline,
               "datePublished": page["published"], "dateModified": page["published"],
               "author": {"@type": "Person", "name": page.get("author", "Staff")},
               "publisher": {"@type": "Organization", "name": name}}
    return f"""<!doctype html>
<html ⚡ lang="en">
<head>
<meta charset="utf-8">
<script async src="https://amp-cdn.example/v0.js"></script>
<title>{esc(headline)} | {esc(name)}</title>
<link rel="canonical" href="{canonical}">
<meta name="viewport" content="width=device-width,minimum-scale=1,initial-scale=1">
{jsonld(article)}
<style amp-boilerplate>body{{-webkit-animation:-amp-start 8s steps(1,end) 0s 1 normal both}}</style>
<style amp-custom>h1{{font-family:Georgia,serif}}.byline{{color:#555}}</style>
</head>
<body>
<header><amp-img src="{origin}/pf/resources/logo.png" width="160" height="32" alt="{esc(name)}"></amp-img></header>
<article>
  <h1>{esc(headline)}</h1>
  <p class="byline">By {esc(page.get('author', 'Staff'))} · <time datetime="{page['published']}">{esc(page['shown'])}</time></p>
{paragraphs(page['story'])}
</article>
<amp-analytics type="example"><script type="application/json">{{"vars":{{"account":"G-0000"}}}}</script></amp-analytics>
</body>
</html>
"""


# -- Northfield Daily: WordPress with Open Graph only --------------------------------------------

def northfield(page: dict) -> str:
    name, origin = SITES["northfield"]
    headline = STORIES[page["story"]][0]
    url = origin + page["path"]
    published = (f'<meta property="article:published_time" content="{page["published"]}">'
                 if page.get("published") else "")
    shown = ""
    if page.get("shown"):
        shown = (f'<span class="posted-on">Posted on <a href="{url}" rel="bookmark">'
                 f'<time class="entry-date published" datetime="{page.get("shown_iso", "")}">'
                 f'{esc(page["shown"])}</time><time class="updated" datetime="2026-02-14T09:00:00-06:00">'
                 f'February 14, 2026</time></a></span>')
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(headline)} &#8211; {esc(name)}</title>
<meta name='robots' content='max-image-preview:large' />
<link rel='dns-prefetch' href='//fonts.example.com' />
<link rel="alternate" type="application/rss+xml" title="{esc(name)} &raquo; Feed" href="{origin}/feed/" />
<link rel='stylesheet' id='wp-block-library-css' href='{origin}/wp-includes/css/dist/block-library/style.min.css?ver=6.4.3' media='all' />
<meta property="og:locale" content="en_US" />
<meta property="og:type" content="article" />
<meta property="og:title" content="{esc(headline)}" />
<meta property="og:url" content="{url}" />
<meta property="og:site_name" content="{esc(name)}" />
{published}
<link rel="canonical" href="{url}" />
<link rel='shortlink' href='{origin}/?p={page['post']}' />
</head>
<body class="post-template-default single single-post postid-{page['post']} single-format-standard">
<div id="page" class="site">
<header id="masthead" class="site-header"><p class="site-title"><a href="{origin}/" rel="home">{esc(name)}</a></p>
<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu"><li><a href="{origin}/category/news/">News</a></li><li><a href="{origin}/category/sports/">Sports</a></li></ul></nav></header>
<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">
<article id="post-{page['post']}" class="post-{page['post']} post type-post status-publish format-standard hentry category-news">
  <header class="entry-header"><h1 class="entry-title">{esc(headline)}</h1>
  <div class="entry-meta">{shown}<span class="byline"> by <span class="author vcard"><a class="url fn n" href="{origin}/author/jdoe/">J. Doe</a></span></span></div></header>
  <div class="entry-content">
{paragraphs(page['story'])}
  </div>
  <footer class="entry-footer"><span class="cat-links">Posted in <a href="{origin}/category/news/" rel="category tag">News</a></span></footer>
</article>
<div id="comments" class="comments-area"><h2 class="comments-title">2 thoughts on &ldquo;{esc(headline)}&rdquo;</h2>
<ol class="comment-list"><li class="comment"><p>About time! I said so back in October 2025.</p></li></ol></div>
</main></div></div>
<footer id="colophon" class="site-footer"><div class="site-info">Proudly powered by WordPress</div></footer>
</div>
<script src='{origin}/wp-includes/js/wp-emoji-release.min.js?ver=6.4.3' id='wp-emoji-js'></script>
</body>
</html>
"""


# -- Riverside Ledger: microdata only -------------------------------------------------------------

def ledger(page: dict) -> str:
    name, origin = SITES["ledger"]
    headline = STORIES[page["story"]][0]
    body = "\n".join(f'      <p>{esc(p)}</p>' for p in STORIES[page["story"]][1])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(headline)} — {esc(name)}</title>
<link rel="stylesheet" href="{origin}/assets/ledger.css?v=31">
<link rel="icon" href="{origin}/favicon.ico">
</head>
<body>
<div class="topbar"><a href="{origin}/">{esc(name)}</a> <span class="weather">Riverside 4°C</span></div>
<div class="container">
  <article itemscope itemtype="https://schema.org/NewsArticle">
    <h1 itemprop="headline">{esc(headline)}</h1>
    <p class="meta">By <span itemprop="author" itemscope itemtype="https://schema.org/Person"><span itemprop="name">{esc(page.get('author', 'Ledger staff'))}</span></span>
    · <time itemprop="datePublished" datetime="{page['published']}">{esc(page['shown'])}</time></p>
    <div itemprop="publisher" itemscope itemtype="https://schema.org/Organization">
      <meta itemprop="name" content="{esc(name)}">
      <div itemprop="logo" itemscope itemtype="https://schema.org/ImageObject"><meta itemprop="url" content="{origin}/assets/logo.png"></div>
    </div>
    <div itemprop="articleBody">
{body}
    </div>
  </article>
  <div class="sidebar"><h3>Most read</h3><ol><li><a href="{origin}/news/river-levels/">River levels fall</a></li></ol></div>
</div>
<div class="footer">{esc(name)} · 14 Quay Street, Riverside</div>
</body>
</html>
"""


# -- Plain Notes: a hand-made blog, no metadata at all ------------------------------------------

def notes(page: dict) -> str:
    name, origin = SITES["notes"]
    headline = STORIES[page["story"]][0]
    title = headline + (f" | {name}" if page.get("title_suffix", True) else "")
    meta = f'<p class="meta">Posted on {esc(page["shown"])} by sam</p>' if page.get("shown") else ""
    return f"""<html>
<head>
<title>{esc(title)}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<div id="wrap">
<div id="header"><a href="/">{esc(name)}</a> &middot; <a href="/about.html">about</a> &middot; <a href="/archive.html">archive</a></div>
<h1>{esc(headline)}</h1>
{meta}
{paragraphs(page['story'])}
<hr>
<p class="nav"><a href="/">&larr; home</a></p>
</div>
</body>
</html>
"""


# -- Example Wire: Twitter cards only -------------------------------------------------------------

def wire(page: dict) -> str:
    name, origin = SITES["wire"]
    headline = STORIES[page["story"]][0]
    first, *rest = STORIES[page["story"]][1]
    rest_html = "\n".join(f"<p>{esc(p)}</p>" for p in rest)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(headline)} - {esc(name)}</title>
<meta name="twitter:card" content="summary">
<meta name="twitter:site" content="@examplewire">
<meta name="twitter:title" content="{esc(headline)}">
<meta name="twitter:description" content="{esc(first[:140])}">
<meta name="twitter:image" content="{origin}/img/wire-card.png">
<link rel="stylesheet" href="{origin}/css/release.css">
</head>
<body>
<div class="banner"><a href="{origin}/">{esc(name)}</a> | <a href="{origin}/releases/">All releases</a></div>
<div class="release">
<h1>{esc(headline)}</h1>
<p class="dateline"><strong>PORTEXAMPLE, {esc(page['shown'])} /{esc(name)}/</strong> -- {esc(first)}</p>
{rest_html}
<p class="contact">Media contact: press@wire.example.com</p>
</div>
<div class="disclaimer">{esc(name)} is not responsible for the content of this release.</div>
</body>
</html>
"""


# -- Institute for Example Studies: citation_* (Google Scholar) tags ------------------------------

def institute(page: dict) -> str:
    name, origin = SITES["institute"]
    headline = STORIES[page["story"]][0]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(headline)}</title>
<meta name="citation_title" content="{esc(headline)}">
<meta name="citation_author" content="Okonkwo, Adaeze">
<meta name="citation_author" content="Berg, Jonas">
<meta name="citation_publication_date" content="{page['published']}">
<meta name="citation_technical_report_institution" content="{esc(name)}">
<meta name="citation_publisher" content="{esc(name)}">
<meta name="citation_pdf_url" content="{origin}/reports/{page['story']}.pdf">
<meta name="DC.publisher" content="{esc(name)}">
<link rel="stylesheet" href="{origin}/static/repo.css">
</head>
<body>
<div id="repo-header"><a href="{origin}/">{esc(name)} · Publications</a></div>
<div id="record">
<h1 class="record-title">{esc(headline)}</h1>
<p class="authors">Adaeze Okonkwo, Jonas Berg</p>
<h2>Abstract</h2>
{paragraphs(page['story'])}
<p><a href="{origin}/reports/{page['story']}.pdf">Download the PDF</a></p>
</div>
</body>
</html>
"""


# -- 示例日报: a Chinese portal -------------------------------------------------------------------

def shili(page: dict) -> str:
    name, origin = SITES["shili"]
    headline = STORIES[page["story"]][0]
    article = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": headline,
               "datePublished": page["published"],
               "publisher": {"@type": "Organization", "name": name}}
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{esc(headline)}--{esc(name)}</title>
<meta name="keywords" content="示例港,码头,电影节">
<meta property="og:title" content="{esc(headline)}">
<meta property="og:site_name" content="{esc(name)}">
<meta property="og:url" content="{origin}{page['path']}">
{jsonld(article)}
<link rel="stylesheet" href="{origin}/css/main.css">
</head>
<body>
<div class="header"><a href="{origin}/">{esc(name)}</a> | <a href="{origin}/gd/">滚动</a> | <a href="{origin}/sh/">社会</a></div>
<div class="main">
  <div class="text_c">
    <h1>{esc(headline)}</h1>
    <div class="info">来源：{esc(name)} &nbsp; <span class="date">{esc(page['shown'])}</span></div>
    <div class="show_text">
{paragraphs(page['story'])}
    </div>
    <div class="edit">（责任编辑：王小明）</div>
  </div>
</div>
<div class="footer">{esc(name)}版权所有</div>
</body>
</html>
"""


# -- Le Courrier d'Exemple: a French regional paper -----------------------------------------------

def courrier(page: dict) -> str:
    name, origin = SITES["courrier"]
    headline = STORIES[page["story"]][0]
    block = ""
    if not page.get("no_jsonld"):
        block = jsonld({"@context": "https://schema.org", "@type": "NewsArticle",
                        "headline": headline, "datePublished": page["published"],
                        "inLanguage": "fr-FR",
                        "publisher": {"@type": "Organization", "name": name}})
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>{esc(headline)} - {esc(name)}</title>
<meta property="og:locale" content="fr_FR">
<meta property="og:type" content="article">
<meta property="og:title" content="{esc(headline)}">
<meta property="og:site_name" content="{esc(name)}">
<meta property="article:published_time" content="{page['published']}">
<link rel="canonical" href="{origin}{page['path']}">
{block}
</head>
<body>
<header class="entete"><a href="{origin}/">{esc(name)}</a><nav><a href="{origin}/region/">Région</a> <a href="{origin}/culture/">Culture</a></nav></header>
<main>
<article>
  <h1>{esc(headline)}</h1>
  <p class="signature">Par Claire Dubois · Publié le <time datetime="{page['published']}">{esc(page['shown'])}</time></p>
{paragraphs(page['story'])}
</article>
</main>
<footer>© {esc(name)} — Tous droits réservés</footer>
</body>
</html>
"""


# -- Beispielstadt Rundschau: a German regional paper ---------------------------------------------

def rundschau(page: dict) -> str:
    name, origin = SITES["rundschau"]
    headline = STORIES[page["story"]][0]
    return f"""<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<title>{esc(headline)} | {esc(name)}</title>
<meta property="og:title" content="{esc(headline)}">
<meta property="og:site_name" content="{esc(name)}">
<meta property="og:type" content="article">
<meta name="DC.date.issued" content="{page['published']}">
<link rel="canonical" href="{origin}{page['path']}">
</head>
<body>
<div class="kopf"><a href="{origin}/">{esc(name)}</a> <a href="{origin}/lokales/">Lokales</a> <a href="{origin}/kultur/">Kultur</a></div>
<div class="artikel">
  <h1>{esc(headline)}</h1>
  <p class="datum">{esc(page['shown'])}</p>
{paragraphs(page['story'])}
  <p class="autor">Von Jana Fischer</p>
</div>
<div class="fuss">© {esc(name)} · Impressum · Datenschutz</div>
</body>
</html>
"""


# -- Frame Weekly: a magazine, JSON-LD sometimes malformed ----------------------------------------

def frame(page: dict) -> str:
    name, origin = SITES["frame"]
    headline = STORIES[page["story"]][0]
    good = jsonld({"@context": "https://schema.org", "@type": "Article", "headline": headline,
                   "datePublished": page["published"],
                   "publisher": {"@type": "Organization", "name": name}})
    # What real pages ship: a quotation mark left unescaped by the template, and the block
    # cut short (a CMS that truncates a long field).
    broken = ('<script type="application/ld+json">\n{"@context": "https://schema.org", '
              '"@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem", '
              '"position": 1, "name": "Reviews & "essays""}, {"@type": "ListItem", '
              '"position": 2, "name": "\n</script>')
    blocks = {"one-bad": broken + "\n" + good, "only-bad": broken,
              "comment": good.replace("{", "{\n// generated by the CMS\n", 1)}[page["jsonld"]]
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{esc(headline)} · {esc(name)}</title>
<meta property="og:title" content="{esc(headline)}">
<meta property="og:site_name" content="{esc(name)}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{page['published']}">
{blocks}
</head>
<body>
<nav class="top"><a href="{origin}/">{esc(name)}</a> <a href="{origin}/reviews/">Reviews</a></nav>
<article class="post">
  <h1>{esc(headline)}</h1>
  <div class="post-meta"><span class="date">{esc(page['shown'])}</span></div>
{paragraphs(page['story'])}
</article>
<footer>{esc(name)} — independent film writing since 2011</footer>
</body>
</html>
"""


# -- a syndicated copy -------------------------------------------------------------------------------

def aggregator(page: dict) -> str:
    name, origin = SITES["aggregator"]
    gazette_name, gazette_origin = SITES["gazette"]
    headline = STORIES[page["story"]][0]
    article = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": headline,
               "datePublished": page["published"],
               "publisher": {"@type": "Organization", "name": gazette_name}}
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(headline)}</title>
<link rel="canonical" href="{gazette_origin}/2026/02/06/lighthouse-lens-restored/">
{jsonld(article)}
</head>
<body>
<div class="agg-header"><a href="{origin}/">{esc(name)}</a></div>
<article><h1>{esc(headline)}</h1><p class="source">From {esc(gazette_name)} · {esc(page['shown'])}</p>
{paragraphs(page['story'])}
</article>
</body>
</html>
"""


RENDER = {"gazette": gazette, "gazette-amp": gazette_amp, "northfield": northfield,
          "ledger": ledger, "notes": notes, "wire": wire, "institute": institute,
          "shili": shili, "courrier": courrier, "rundschau": rundschau, "frame": frame,
          "aggregator": aggregator}

# Each page: its site, its path there, what it declares and shows, and the truth: the date it
# ran where it ran (None: the page does not say), and the publisher (None: nothing names it,
# so the host is right).
PAGES: list[dict] = [
    # JSON-LD + Open Graph, a UTC time that is the same day everywhere; byline agrees.
    dict(story="g-budget", site="gazette", path="/2026/02/13/harbour-budget-approved/",
         published="2026-02-13T11:20:00Z", shown="Feb. 13, 2026", truth="2026-02-13",
         author="Lena Park", kind="json-ld"),
    # The UTC evening story: declared the next day, URL and byline say the day it ran.
    dict(story="g-ferry", site="gazette", path="/2026/02/12/ferry-strike-talks-collapse/",
         published="2026-02-13T01:45:00Z", shown="Feb. 12, 2026 at 8:45 p.m. EST",
         truth="2026-02-12", author="Tomasz Wren", kind="utc-evening"),
    # The same without a byline: only the URL disagrees with the UTC date.
    dict(story="g-schools", site="gazette", path="/2026/02/10/harbour-schools-head-teacher/",
         published="2026-02-11T02:10:00Z", truth="2026-02-10", kind="utc-evening"),
    # An offset other than UTC: the publisher's own date.
    dict(story="g-market", site="gazette", path="/2026/02/09/fish-market-moves-indoors/",
         published="2026-02-09T18:30:00-05:00", shown="Feb. 9, 2026", truth="2026-02-09",
         kind="json-ld"),
    # Yoast-style @graph, the publisher by @id; modified later than published.
    dict(story="g-tram", site="gazette", path="/2026/02/11/tram-extension-second-look/",
         published="2026-02-11T14:05:00Z", modified="2026-02-14T09:00:00Z",
         shown="Feb. 11, 2026", truth="2026-02-11", graph=True, kind="json-ld"),
    dict(story="g-opinion", site="gazette", path="/2026/02/08/opinion-harbour-plan/",
         published="2026-02-08T12:00:00Z", shown="Feb. 8, 2026", truth="2026-02-08",
         type="OpinionNewsArticle", og_suffix=True, section="Opinion", kind="json-ld"),
    dict(story="g-festival", site="gazette", path="/2026/02/10/festival-opens-machine-short/",
         published="2026-02-10T17:40:00Z", shown="Feb. 10, 2026", truth="2026-02-10",
         author="Ana Ruiz", kind="json-ld"),
    dict(story="g-lighthouse", site="gazette", path="/2026/02/06/lighthouse-lens-restored/",
         published="2026-02-06T10:30:00Z", shown="Feb. 6, 2026", truth="2026-02-06",
         kind="json-ld"),
    dict(story="g-vote", site="gazette", path="/2026/02/10/marina-name-vote/",
         published="2026-02-10T13:00:00Z", shown="Feb. 10, 2026", truth="2026-02-10",
         kind="redirect-target"),
    # AMP copies: the canonical address is the article's, on the same site.
    dict(story="g-amp-storm", site="gazette-amp", path="/amp/2026/02/09/north-quay-closed/",
         published="2026-02-09T15:00:00Z", shown="Feb. 9, 2026", truth="2026-02-09",
         kind="amp"),
    dict(story="g-amp-rents", site="gazette-amp", path="/amp/2026/02/12/harbour-rents-rise/",
         published="2026-02-12T23:50:00Z", shown="Feb. 12, 2026", truth="2026-02-12",
         kind="amp"),
    dict(story="g-amp-library", site="gazette-amp", path="/amp/2026/02/05/film-archive-online/",
         published="2026-02-05T12:15:00Z", shown="Feb. 5, 2026", truth="2026-02-05",
         kind="amp"),
    # Open Graph only.
    dict(story="n-bridge", site="northfield", path="/news/2026/02/08/mill-road-bridge-reopens/",
         published="2026-02-08T07:12:00-06:00", shown="February 8, 2026",
         shown_iso="2026-02-08T07:12:00-06:00", truth="2026-02-08", post=4411,
         kind="open-graph"),
    dict(story="n-library", site="northfield", path="/news/2026/02/07/library-sunday-hours/",
         published="2026-02-07T16:30:00-06:00", shown="February 7, 2026",
         shown_iso="2026-02-07T16:30:00-06:00", truth="2026-02-07", post=4398,
         kind="open-graph"),
    dict(story="n-farm", site="northfield", path="/news/grain-elevator-co-op/",
         published="2026-02-05T11:00:00Z", shown="February 5, 2026",
         shown_iso="2026-02-05T05:00:00-06:00", truth="2026-02-05", post=4371,
         kind="open-graph"),
    # No declared date: the byline and the URL are guesses, flagged.
    dict(story="n-cinema", site="northfield", path="/news/2026/02/12/rialto-ai-film-nights/",
         shown="February 12, 2026", shown_iso="2026-02-12T10:00:00-06:00",
         truth="2026-02-12", post=4450, kind="open-graph"),
    dict(story="n-snow", site="northfield", path="/news/snow-days-school-year/",
         shown="February 3, 2026", shown_iso="2026-02-03T08:00:00-06:00", truth="2026-02-03",
         post=4302, kind="open-graph"),
    # Microdata only.
    dict(story="l-dam", site="ledger", path="/news/dam-fish-ladder/",
         published="2026-02-07T06:00:00-05:00", shown="February 7, 2026",
         truth="2026-02-07", kind="microdata"),
    dict(story="l-mayor", site="ledger", path="/news/mayor-no-third-term/",
         published="2026-02-14", shown="February 14, 2026", truth="2026-02-14",
         kind="microdata"),
    dict(story="l-museum", site="ledger", path="/culture/museum-returns-panels/",
         published="2026-02-04T09:00:00-05:00", shown="February 4, 2026",
         truth="2026-02-04", kind="microdata"),
    dict(story="l-bus", site="ledger", path="/news/night-buses-return/",
         published="2026-02-02", shown="February 2, 2026", truth="2026-02-02",
         kind="microdata"),
    dict(story="l-studio", site="ledger", path="/business/studio-ai-supervisor/",
         published="2026-02-11T08:00:00-05:00", shown="February 11, 2026",
         truth="2026-02-11", author="Sam Ortiz", kind="microdata"),
    # No metadata at all.
    dict(story="p-walk", site="notes", path="/2026/02/sea-wall-walk.html",
         shown="9 February 2026", truth="2026-02-09", kind="no-metadata"),
    dict(story="p-bread", site="notes", path="/2026/02/05/sourdough.html",
         truth="2026-02-05", kind="no-metadata"),
    # The date only in the text.
    dict(story="p-camera", site="notes", path="/posts/film-camera.html", truth="2026-02-04",
         kind="date-in-text"),
    # Nothing says when, nothing says who: no date, and the host is the publisher.
    dict(story="p-garden", site="notes", path="/posts/vegetable-beds.html", truth=None,
         title_suffix=False, publisher=None, kind="no-metadata"),
    # Twitter cards only; the date is in the dateline.
    dict(story="w-shipyard", site="wire", path="/releases/shipyard-electric-ferries",
         shown="Feb. 6, 2026", truth="2026-02-06", kind="twitter"),
    dict(story="w-software", site="wire", path="/releases/harbour-booking-software",
         shown="Feb. 2, 2026", truth="2026-02-02", kind="twitter"),
    dict(story="w-guild", site="wire", path="/releases/guild-synthetic-extras",
         shown="Feb. 12, 2026", truth="2026-02-12", kind="twitter"),
    # citation_* tags.
    dict(story="i-report", site="institute", path="/publications/coastal-flooding-review",
         published="2026/02/03", truth="2026-02-03", kind="citation"),
    dict(story="i-brief", site="institute", path="/publications/paying-for-sea-walls",
         published="2026/01/28", truth="2026-01-28", kind="citation"),
    dict(story="i-paper", site="institute", path="/publications/audience-attitudes-ai-film",
         published="2026/02/10", truth="2026-02-10", kind="citation"),
    # Chinese: +08:00 offsets, and a UTC time that is the next morning in Beijing.
    dict(story="c-port", site="shili", path="/n1/2026/0212/c1004-40001.html",
         published="2026-02-12T09:30:00+08:00", shown="2026年02月12日09:30",
         truth="2026-02-12", kind="chinese"),
    dict(story="c-film", site="shili", path="/n1/2026/0210/c1012-40002.html",
         published="2026-02-09T23:30:00Z", shown="2026年02月10日07:30", truth="2026-02-10",
         kind="chinese"),
    dict(story="c-rail", site="shili", path="/n1/2026/0206/c1004-40003.html",
         published="2026-02-06T14:00:00+08:00", shown="2026年02月06日14:00",
         truth="2026-02-06", kind="chinese"),
    # French.
    dict(story="f-port", site="courrier", path="/region/le-port-agrandit-sa-criee",
         published="2026-02-11T18:30:00+01:00", shown="11 février 2026 à 18h30",
         truth="2026-02-11", kind="french"),
    dict(story="f-cinema", site="courrier", path="/culture/le-cinema-municipal-rouvre",
         published="2026-02-07T08:00:00+01:00", shown="7 février 2026 à 08h00",
         truth="2026-02-07", no_jsonld=True, kind="french"),
    dict(story="f-velo", site="courrier", path="/region/piste-cyclable-deux-rives",
         published="2026-02-01T10:15:00+01:00", shown="1er février 2026 à 10h15",
         truth="2026-02-01", kind="french"),
    # German.
    dict(story="d-hafen", site="rundschau", path="/lokales/hafenfest-vier-tage-123456",
         published="2026-02-13", shown="13. Februar 2026, 09:15 Uhr", truth="2026-02-13",
         kind="german"),
    dict(story="d-kino", site="rundschau", path="/kultur/programmkino-ki-kurzfilme-123470",
         published="2026-02-10", shown="10.02.2026, 17:40 Uhr", truth="2026-02-10",
         kind="german"),
    dict(story="d-bahn", site="rundschau", path="/lokales/neue-buslinie-bahnhof-123480",
         published="2026-02-05", shown="5. Februar 2026", truth="2026-02-05", kind="german"),
    # Malformed JSON-LD: skipped, the rest still read.
    dict(story="m-review", site="frame", path="/reviews/who-owns-a-face",
         published="2026-02-09T09:00:00+00:00", shown="9 February 2026", truth="2026-02-09",
         jsonld="one-bad", kind="malformed-json-ld"),
    dict(story="m-interview", site="frame", path="/features/editor-with-a-machine",
         published="2026-02-12T10:00:00+00:00", shown="12 February 2026",
         truth="2026-02-12", jsonld="only-bad", kind="malformed-json-ld"),
    dict(story="m-column", site="frame", path="/columns/long-tail-viral-clip",
         published="2026-02-03T11:30:00+00:00", shown="3 February 2026", truth="2026-02-03",
         jsonld="comment", kind="malformed-json-ld"),
    # A syndicated copy: its canonical address is on another site, so its own is kept.
    dict(story="s-copy", site="aggregator", path="/story/884120/lighthouse-lens",
         published="2026-02-06T10:30:00Z", shown="Feb. 6, 2026", truth="2026-02-06",
         publisher="The Harbour Gazette", kind="syndicated"),
]


def expected(page: dict) -> dict:
    site = page["site"].removesuffix("-amp")
    name, origin = SITES[site]
    publisher = page.get("publisher", name)
    return {"path": page["path"], "origin": origin, "kind": page["kind"],
            "file": f"{site}/{page['story']}.html", "headline": STORIES[page["story"]][0],
            "publisher": publisher, "date": page["truth"]}


# What is not an article page as saved: a redirect with tracking parameters (to a page above),
# a page that refuses the request (403), and a PDF report with document metadata.
SPECIAL = [
    {"path": "/go/marina-vote?utm_source=newsletter&utm_medium=email",
     "origin": SITES["gazette"][1], "kind": "redirect",
     "redirect": "/2026/02/10/marina-name-vote/?utm_source=newsletter&utm_campaign=feb"
                 "&fbclid=IwAR0example",
     "headline": STORIES["g-vote"][0], "publisher": SITES["gazette"][0], "date": "2026-02-10",
     "url": "/2026/02/10/marina-name-vote/"},
    {"path": "/2026/02/11/locked-story/", "origin": SITES["gazette"][1], "kind": "403",
     "status": 403, "headline": None, "publisher": None, "date": None},
    {"path": "/reports/coastal-flooding-review.pdf", "origin": SITES["institute"][1],
     "kind": "pdf", "file": "institute/coastal-flooding-review.pdf",
     "content_type": "application/pdf", "headline": STORIES["i-report"][0],
     "publisher": SITES["institute"][0], "date": "2026-02-03"},
]


def write_pdf(target: Path) -> None:
    """A one-page report whose document information and XMP name its title and publisher."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, StreamObject
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": STORIES["i-report"][0], "/Author": "Adaeze Okonkwo",
                         "/CreationDate": "D:20260203101500+01'00'",
                         "/Producer": "Example Typesetter 2.1"})
    xmp = StreamObject()
    xmp.set_data(f"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{STORIES["i-report"][0]}</rdf:li></rdf:Alt></dc:title>
<dc:publisher><rdf:Bag><rdf:li>{SITES["institute"][0]}</rdf:li></rdf:Bag></dc:publisher>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>""".encode())
    xmp.update({NameObject("/Type"): NameObject("/Metadata"),
                NameObject("/Subtype"): NameObject("/XML")})
    writer.root_object[NameObject("/Metadata")] = writer._add_object(xmp)
    with open(target, "wb") as handle:
        writer.write(handle)


def main() -> None:
    manifest = []
    for page in PAGES:
        entry = expected(page)
        target = HERE / entry["file"]
        target.parent.mkdir(exist_ok=True)
        target.write_text(RENDER[page["site"]](page), encoding="utf-8")
        manifest.append(entry)
    write_pdf(HERE / "institute" / "coastal-flooding-review.pdf")
    manifest += SPECIAL
    (HERE / "pages.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                     encoding="utf-8")
    print(f"wrote {len(manifest)} pages and pages.json")


if __name__ == "__main__":
    main()
