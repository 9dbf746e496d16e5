"""Small news stories in eight scripts, written for the tests, and capture files of every kind built from them.

Japanese, Chinese and Thai put no spaces between words; Arabic and Hebrew run right to left; Hindi,
Korean and Russian round out the scripts. Each story is a headline and paragraphs, one per line, as a
plain-text capture of a news page is laid out.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

STORIES: dict[str, tuple[str, list[str]]] = {
    "ja": ("市立図書館が駅前に移転、来春開館へ", [
        "市は十日、老朽化した市立図書館を駅前の再開発ビルに移転すると発表した。来年四月の開館を目指す。",
        "新しい図書館は約二十万冊を収容でき、子ども向けの読書室や自習席も設ける。市長は「通勤や通学の途中に"
        "気軽に立ち寄れる場所にしたい」と話した。",
    ]),
    "zh": ("城市新增五条公交线路 缓解早高峰拥堵", [
        "市交通运输局昨天宣布，从下月起将新开五条公交线路，连接新建住宅区和地铁站。",
        "据介绍，新线路将在早晚高峰加密班次，预计每天可服务约三万名乘客。交通局负责人表示，将根据市民反馈继续调整线路和站点。",
    ]),
    "th": ("กรุงเทพฯ เปิดสวนสาธารณะแห่งใหม่ริมแม่น้ำเจ้าพระยา", [
        "กรุงเทพมหานครเปิดสวนสาธารณะแห่งใหม่ริมแม่น้ำเจ้าพระยาเมื่อวันเสาร์ที่ผ่านมา มีประชาชนจำนวนมากเดินทางมาพักผ่อนและออกกำลังกาย",
        "ผู้ว่าราชการกรุงเทพมหานครกล่าวว่า สวนแห่งนี้จะช่วยเพิ่มพื้นที่สีเขียวให้กับเมือง และจะเปิดให้บริการทุกวันตั้งแต่เช้าจนถึงค่ำ",
    ]),
    "ar": ("افتتاح مستشفى جديد للأطفال في وسط المدينة", [
        "افتتحت وزارة الصحة يوم الأحد مستشفى جديدا للأطفال في وسط المدينة، يضم مئة وعشرين سريرا وقسما للطوارئ.",
        "وقال مدير المستشفى إن المبنى الجديد سيخفف الضغط عن المستشفيات الأخرى، وإن العيادات الخارجية ستستقبل "
        "المرضى ابتداء من الأسبوع المقبل.",
    ]),
    "he": ("קו רכבת חדש ייפתח בין העיר לנמל בקיץ", [
        "משרד התחבורה הודיע ביום שני כי קו הרכבת החדש בין מרכז העיר לנמל ייפתח לנוסעים בתחילת הקיץ.",
        "לדברי המשרד, הנסיעה תימשך כעשרים דקות והרכבות יצאו כל רבע שעה בשעות העומס. תושבי השכונות הסמוכות "
        "ביקשו להוסיף תחנה נוספת.",
    ]),
    "hi": ("शहर में नया जल शोधन संयंत्र शुरू हुआ", [
        "नगर निगम ने सोमवार को शहर के पूर्वी हिस्से में नया जल शोधन संयंत्र शुरू किया, जिससे लाखों लोगों को साफ पानी मिलेगा।",
        "अधिकारियों ने बताया कि संयंत्र हर दिन करोड़ों लीटर पानी साफ कर सकता है और गर्मियों में पानी की कमी कम होगी।",
    ]),
    "ko": ("시, 노후 다리 보수 공사 다음 달 시작", [
        "시는 강을 가로지르는 오래된 다리의 보수 공사를 다음 달부터 시작한다고 월요일 밝혔다.",
        "공사 기간 동안 차로 두 개가 통제되며, 시는 출퇴근 시간에 버스를 추가로 운행할 계획이다. "
        "공사는 내년 봄에 끝날 예정이다.",
    ]),
    "ru": ("В городе откроют новую линию трамвая", [
        "Городские власти объявили во вторник, что новая линия трамвая свяжет центр с северными районами уже к осени.",
        "По словам чиновников, поездка займёт около двадцати минут, а трамваи будут ходить каждые семь минут "
        "в часы пик. Жители давно просили улучшить транспорт в этих районах.",
    ]),
}

CAPTURED_AT = "2025-03-10T08:00:00Z"
# ``txt`` has a headline line; ``body.txt`` only the story's paragraphs, as a wire feed saves it.
KINDS = ("txt", "body.txt", "html", "warc", "jsonl")


def plain_text(language: str, headline: bool = True) -> str:
    title, paragraphs = STORIES[language]
    return "\n".join([title, *paragraphs] if headline else paragraphs) + "\n"


def html_page(language: str, address: str) -> str:
    title, paragraphs = STORIES[language]
    direction = ' dir="rtl"' if language in ("ar", "he") else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html>\n<html lang="{language}"{direction}><head><meta charset="utf-8">'
            f'<link rel="canonical" href="{address}"><title>{html.escape(title)}</title></head>\n'
            '<body><nav><a href="/">⌂</a></nav>\n'
            f"<article><h1>{html.escape(title)}</h1>\n{body}\n</article></body></html>\n")


def url(language: str, kind: str) -> str:
    return f"https://news.example/{language}/2025/03/10/{kind.replace('.', '-')}-story"


def write_captures(folder: Path, kinds: tuple[str, ...] = KINDS) -> dict[str, str]:
    """One capture file per (language, kind) in ``folder``, each with its own address (so none is a
    duplicate of another); returns file name -> expected language."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for language in STORIES:
        for kind in kinds:
            name = f"{language}-story.{kind}"
            if kind.endswith("txt"):  # the page's address in a sidecar, as a crawler saves it
                (folder / name).write_text(plain_text(language, headline=kind == "txt"), encoding="utf-8")
                sidecar = {"url": url(language, kind), "fetched_at": CAPTURED_AT}
                (folder / f"{name}.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
            elif kind == "html":
                (folder / name).write_text(html_page(language, url(language, kind)), encoding="utf-8")
            elif kind == "jsonl":
                record = {"url": url(language, kind), "text": plain_text(language), "fetched_at": CAPTURED_AT}
                (folder / name).write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
            else:
                (folder / name).write_bytes(_warc(url(language, kind), html_page(language, url(language, kind))))
            expected[name] = language
    return expected


def _warc(target: str, page: str) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    record = writer.create_warc_record(target, "response", payload=io.BytesIO(page.encode("utf-8")),
                                       http_headers=headers, warc_headers_dict={"WARC-Date": CAPTURED_AT})
    writer.write_record(record)
    return buffer.getvalue()
