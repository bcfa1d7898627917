"""Word lists the generator composes names from (invented for lakeport; no real catalogue data).

Track and album words are title-cased with Python's ``str.title()``, exactly as the dataset's author cased
names, so apostrophes produce the real files' artefact (``king's`` → ``King'S``).
"""

from __future__ import annotations

FIRST_NAMES = (
    "Ava Liam Noah Mia Leo Zoe Eli Ivy Max Ruby Jade Owen Luca Nina Omar Rosa Theo Cleo Finn Iris Jonah Maya "
    "Remy Sage Tariq Vera Wes Yara Abel Bea Cal Dara Ezra Faye Gus Hana Isak June Kofi Lena Milo Nora Otis "
    "Pia Quinn Rhea Sam Tess Umar Vik Wren Xavi Yuki Zane Aria Beck Cora Dax Edie Flo Gio Hugo Ines Jack "
    "Kira Lou Mae Ned Olive Pax Raf Skye Tom Una Val Will Zia Andre Bianca Carlos Dana Emil Frida Gabe Hiro "
    "Imani Jorge Kai Lila Marco Nadia Oscar Priya Rafael Selma Tomas Usha Victor Wanda Yusuf Zara Benny "
    "Chloe Darius Elena Felix Greta Harvey Ingrid Jasper Kaia Lionel Mateo Nico Ophelia Pablo Rocco Sienna"
).split()

LAST_NAMES = (
    "Stone Rivers Hale Monroe Vance Carter Blake Hayes Reed Quinn Lowe Frost Knight Wells Grant Shaw Price "
    "Moss Lane Cross Ford Hart Marsh Nash Page Rowe Snow Todd Webb Young Bishop Castle Drake Ellis Fox Gray "
    "Hill Irwin Jett Kane Lake Mercer North Oakes Parks Rhodes Sterling Tate Underwood Vale Ward York Zeller "
    "Alvarez Bennett Costa Duarte Esposito Fischer Garcia Hoffman Ibarra Jensen Kowalski Lindqvist Moreau "
    "Nakamura Okafor Petrov Romano Santos Tanaka Urban Vargas Weber Xu Yilmaz Zhou Adeyemi Brennan Chandra "
    "Delacroix Eriksen Ferreira Gallo Haddad Ivanova Jovanovic Kim Larsen Mendez Novak Ortega Park Quintero "
    "Reyes Silva Torres Ueda Villa Walsh"
).split()

# Names written with letters outside ASCII (about 3.4 % of the real artists).
ACCENTED_FIRST = (
    "Zoë Björn Łukasz Inés Søren Renée Ülkü Ñico Joël Anaïs Dženan Ørjan Émile Mónica Çağla Siân Ødegaard "
    "Jürgen Aurélie Tomáš Ярослав Мила Ἀλέξης 陽菜 지민 Hélène Noémie José André"
).split()
ACCENTED_LAST = (
    "Müller Peña Ødegård Núñez Šimek Côté Gonçalves Brontë Dvořák Ångström Kovač Ibáñez Łęcki Säde Zoltán "
    "Петрова Ōtani Häkkinen Ferrán Ruíz"
).split()

STAGE_PREFIXES = ("Lil", "DJ", "MC", "Young", "Big", "Yung", "Saint", "King", "Queen", "Baby", "Dr.", "Sir")

BAND_WORDS = (
    "velvet harbor echo lantern neon tide ember orchard static paper comet saffron glacier hollow meadow "
    "thunder violet canyon signal marble raven copper willow ghost cinder atlas lotus pilot satellite "
    "wildfire mirror garden arrow falcon quarry honey midnight silver crimson ocean prism voltage desert "
    "harvest summit ivory lunar solar cobalt monarch shadow radio kingdom parade wolves foxes sparrows "
    "tigers lions owls ravens pilots sailors drifters dreamers strangers outlaws rebels saints poets"
).split()

TITLE_WORDS = (
    "love night light heart fire dream rain city road summer winter ocean star sky dance gold river "
    "shadow forever midnight sunrise wild home lost young free electric blue red heaven storm moon sun "
    "fever angel ghost secret paradise highway echo velvet diamond thunder whisper lonely sweet bitter "
    "golden silver broken falling running burning dancing waiting calling chasing holding flying "
    "tonight yesterday tomorrow again alone together better crazy slow fast dark bright cold warm "
    "king's don't ain't it's i'm you're we're can't won't love's night's heaven's rock'n'roll "
    "baby girl boy mama papa friend stranger lover enemy queen king prince hero villain rider "
    "money time life world fire water stone glass paper smoke neon coffee cherry honey sugar "
    "corazón niño café über mañana señorita déjà amour vida noche fuego cielo ciudad luz"
).split()

TITLE_TAILS = (
    "",
    "",
    "",
    "",
    "",
    "",
    " - Remastered 2011",
    " - Live",
    " (Remix)",
    " - Radio Edit",
    " (Acoustic)",
    " - Instrumental",
    " (Deluxe Edition)",
    "!",
)

# A few album titles shared by very many albums (free-text album search catches unrelated albums).
COMMON_ALBUM_TITLES = (
    "Nirvana Action Exodus Future Home Gold Forever Paradise Legend Origins Vol. 1 Greatest Hits Live "
    "Christmas Love Songs Essentials Unplugged Reflections"
).split(" ")

LABEL_WORDS = (
    "Harborline Northstar Bluecoast Ironwood Maplehill Redfern Skyline Tidewater Sunhouse Riverbend "
    "Stonegate Lightyear Goldcrest Wildflower Nightowl Brightside Deepwell Highmark Westwind Eastgate "
    "Moonlit Coldspring Pinecrest Silverline Oakleaf Bluebird Firefly Starling Greenroom Backyard"
).split()
LABEL_SUFFIXES = ("Records", "Music", "Recordings", "Entertainment", "Sound", "Music Group", "Label", "Audio")
ACCENTED_LABELS = ("Discos Año Nuevo", "Éditions Lumière", "Müzik Yapım Evi", "Señal Récords", "Nördlicht Tonträger")

GENRE_REGIONS = (
    "canadian uk latin k j german brazilian nordic french italian spanish mexican argentine colombian "
    "australian irish dutch belgian swedish norwegian danish finnish polish russian ukrainian turkish "
    "greek portuguese indian pakistani filipino indonesian thai vietnamese chinese taiwanese nigerian "
    "ghanaian south-african kenyan jamaican cuban puerto-rican dominican chilean peruvian venezuelan "
    "atlanta chicago detroit houston memphis miami nyc la bay-area texas southern east-coast west-coast "
    "deep dark classic modern alt indie underground progressive melodic experimental minimal vintage "
    "dream neo new-wave post retro hard soft"
).split()
GENRE_STYLES = (
    "pop rap hip-hop rock trap house techno folk jazz r&b soul metal punk country reggaeton edm lo-fi "
    "drill gospel blues funk disco ambient emo grunge ska salsa cumbia banda corrido karaoke "
    "children's-music dancehall afrobeats amapiano grime garage dubstep trance hardstyle synthwave "
    "shoegaze bossa-nova samba tango flamenco fado chanson schlager opera classical orchestral "
    "soundtrack bluegrass americana worship indie-pop dance-pop electropop"
).split()


def titled(words: tuple[str, ...] | list[str]) -> list[str]:
    """Title-case as Python's ``str.title()`` does (the dataset author's casing, artefacts included)."""
    return [w.title() for w in words]


def genre_vocabulary(size: int) -> list[str]:
    """``size`` distinct genre names, most common first (plain styles, then region + style)."""
    styles = [s.replace("-", " ") for s in GENRE_STYLES]
    out = list(styles)
    for style in styles:
        for region in GENRE_REGIONS:
            out.append(f"{region.replace('-', ' ')} {style}")
    if len(out) < size:
        raise ValueError(f"the genre vocabulary has {len(out)} names, fewer than {size}")
    return out[:size]
