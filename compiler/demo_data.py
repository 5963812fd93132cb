"""Deterministic sample marketing data (Polish B2C/B2B shop) for demos and tests.

Everything is generated set-based inside DuckDB: each random choice is a hash of
(seed, row key, salt), so the same arguments always give identical tables, there are
no dependencies beyond ``duckdb``, and millions of rows take seconds, not minutes.
"""
from __future__ import annotations

from datetime import datetime, timedelta

# --- value pools (module constants, rendered into SQL as literals) -------------------
_CITIES = [c.strip().split("|") for c in """
Warszawa|mazowieckie|1860; Kraków|małopolskie|800; Wrocław|dolnośląskie|674; Łódź|łódzkie|658;
Poznań|wielkopolskie|540; Gdańsk|pomorskie|486; Szczecin|zachodniopomorskie|391;
Bydgoszcz|kujawsko-pomorskie|330; Lublin|lubelskie|334; Katowice|śląskie|286; Białystok|podlaskie|294;
Gdynia|pomorskie|243; Częstochowa|śląskie|210; Radom|mazowieckie|200; Toruń|kujawsko-pomorskie|197;
Rzeszów|podkarpackie|198; Kielce|świętokrzyskie|186; Olsztyn|warmińsko-mazurskie|170; Opole|opolskie|127;
Zielona Góra|lubuskie|139; Gliwice|śląskie|175; Bielsko-Biała|śląskie|168; Elbląg|warmińsko-mazurskie|117;
Gorzów Wielkopolski|lubuskie|120; Płock|mazowieckie|116; Tarnów|małopolskie|107; Kalisz|wielkopolskie|98;
Koszalin|zachodniopomorskie|106; Legnica|dolnośląskie|98; Nowy Sącz|małopolskie|83; Słupsk|pomorskie|89;
Siedlce|mazowieckie|77; Gniezno|wielkopolskie|67; Pruszków|mazowieckie|62; Piaseczno|mazowieckie|50;
Wieliczka|małopolskie|40; Sopot|pomorskie|35; Zakopane|małopolskie|27; Zamość|lubelskie|60;
Przemyśl|podkarpackie|58; Mielec|podkarpackie|59; Włocławek|kujawsko-pomorskie|105;
Jelenia Góra|dolnośląskie|78; Suwałki|podlaskie|69""".split(";")]
_BIG_CITIES = ["Warszawa", "Kraków", "Wrocław", "Łódź", "Poznań", "Gdańsk"]
_FEMALE = ("Anna Maria Katarzyna Małgorzata Agnieszka Barbara Ewa Krystyna Elżbieta Magdalena Joanna "
           "Aleksandra Monika Zofia Natalia Julia Karolina Marta Beata Dorota Justyna Paulina Weronika "
           "Zuzanna Hanna Alicja Iwona Grażyna").split()
_MALE = ("Piotr Krzysztof Andrzej Tomasz Paweł Jan Michał Marcin Jakub Adam Łukasz Marek Grzegorz "
         "Mateusz Wojciech Mariusz Dariusz Zbigniew Kamil Maciej Szymon Bartosz Antoni Filip "
         "Stanisław Jerzy Kacper").split()
_SURNAMES_M = ("Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański "
               "Woźniak Dąbrowski Kozłowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk Kaczmarek "
               "Piotrowski Grabowski Zając Pawłowski Michalski Król Wieczorek Jabłoński Wróbel Nowakowski "
               "Majewski Olszewski Stępień Malinowski Jaworski Adamczyk Dudek Nowicki Górski Sikora").split()
_SURNAMES_F = [s[:-1] + "a" if s.endswith("ski") or s.endswith("cki") else s for s in _SURNAMES_M]
_JOBS_B2B = [("CEO", 8), ("Owner", 8), ("Prezes Zarządu", 6), ("Właściciel", 8), ("CTO", 3), ("CFO", 3),
             ("Marketing Manager", 8), ("Sales Manager", 8), ("HR Manager", 4), ("Dyrektor Handlowy", 4),
             ("Kierownik Zakupów", 5), ("Specialist", 12), ("Engineer", 8), ("Accountant", 5),
             ("Office Manager", 5), (None, 5)]
_JOBS_B2C = [(None, 20), ("Student", 12), ("Specialist", 15), ("Engineer", 9), ("Accountant", 5),
             ("Nauczyciel", 8), ("Programista", 8), ("Kierowca", 5), ("Emeryt", 5), ("Sprzedawca", 6),
             ("Lekarz", 3), ("Owner", 4)]
_INDUSTRIES = [("automotive", 14), ("retail", 18), ("it", 16), ("manufacturing", 16), ("finance", 8),
               ("education", 7), ("healthcare", 8), ("logistics", 13)]
_TAGS = ["vip", "newsletter", "webinar", "trade_fair", "partner", "b2b", "wholesale"]
_URLS = [  # by area: 0 training, 1 shoes (a number gets appended), 2 tv, 3 general
    ["/szkolenia", "/szkolenia/excel-zaawansowany", "/szkolenia/marketing-automation",
     "/szkolenia/python-dla-analitykow", "/szkolenia/sprzedaz-b2b", "/szkolenia/zarzadzanie-projektami"],
    ["/buty/meskie/sneakers-", "/buty/damskie/botki-", "/buty/damskie/szpilki-", "/buty/meskie/trzewiki-"],
    ["/tv", "/tv/oled-55", "/tv/qled-65", "/tv/oled-65", "/tv/qled-55", "/tv/led-43"],
    ["/", "/", "/cennik", "/cennik", "/kontakt", "/promocje", "/o-nas", "/blog/jak-wybrac-telewizor",
     "/blog/excel-triki", "/blog/automatyzacja-marketingu", "/blog/trendy-obuwie"]]
_FORMS = [("newsletter_signup", 35), ("training_signup", 20), ("contact_form", 20), ("demo_request", 10),
          ("webinar_registration", 15)]
_UTM = [("google", 35), ("facebook", 20), ("linkedin", 15), ("newsletter", 15), ("direct", 15)]
# Target event mix in percent (purchases derive from carts, mail reactions from sends); the
# listed shares add up to 89.9, so base streams are scaled by that to hit the requested total.
_MIX_WEB = [("page_view", 55), ("add_to_cart", 3), ("form_submit", 2), ("survey_submit", 0.5)]
_MIX_TOTAL = 89.9
_BOUNCE, _OPEN, _CLICK, _UNSUB = 0.2 / 15, 10 / 15 / (1 - 0.2 / 15), 0.3, 0.02  # per send / per open


# --- SQL snippet helpers (return SQL text; all inputs are module constants) -------------
def _lit(v) -> str:
    return "NULL" if v is None else str(v) if isinstance(v, (int, float)) else "'" + v.replace("'", "''") + "'"


def _list(values) -> str:
    return "[" + ", ".join(map(_lit, values)) + "]"


def _u(salt: str, key: str = "i") -> str:
    """Uniform [0,1) double from (seed, key, salt). The outer hash matters: DuckDB combines
    multi-argument hashes by xor, so without re-mixing different salts give correlated values."""
    return f"((hash(hash($seed, {key}, '{salt}')) >> 11) / 9007199254740992.0)"


def _uniform_cols(prefix: str, names: str, key: str = "i") -> str:
    return ", ".join(f"{_u(prefix + n, key)} AS u_{n}" for n in names.split())


def _pick(values, u: str) -> str:  # uniform choice
    return f"{_list(values)}[1 + floor({u} * {len(values)})::INT]"


def _wpick(pairs, u: str) -> str:
    """Weighted choice: CASE over cumulative weights (pass a column as u, it is repeated)."""
    total, acc, whens = sum(w for _, w in pairs), 0.0, []
    for v, w in pairs[:-1]:
        acc += w
        whens.append(f"WHEN {u} < {acc / total:.6f} THEN {_lit(v)}")
    return f"CASE {' '.join(whens)} ELSE {_lit(pairs[-1][0])} END"


def _secs(expr: str) -> str:
    return f"to_seconds(floor({expr})::BIGINT)"


def _ascii(col: str) -> str:  # 'Łukasz Wróbel' -> 'lukasz wrobel' (strip_accents keeps ł)
    return f"lower(strip_accents(replace(replace({col}, 'ł', 'l'), 'Ł', 'L')))"


# --- contacts ---------------------------------------------------------------------------
_CONTACTS_SQL = f"""
CREATE OR REPLACE TABLE raw.contacts AS
WITH b AS (
  SELECT i + 1 AS contact_id,
    {_uniform_cols('c', 'b2b g sex fn ln em city cn age1 age2 bn job ind sz src opt cr tn t1 t2 t3')}
  FROM range($n) r(i)
), c AS (
  SELECT *, CASE WHEN u_b2b < 0.25 THEN 'b2b' ELSE 'b2c' END AS customer_type,
    CASE WHEN u_g < 0.03 THEN NULL WHEN u_g < 0.515 THEN 'female' ELSE 'male' END AS gender,
    {_wpick([('PL', 970), ('DE', 12), ('CZ', 8), ('UA', 10)], 'u_cn')} AS country,
    {_wpick([(k + 1, int(w)) for k, (_, _, w) in enumerate(_CITIES)], 'u_city')} AS ci
  FROM b
), d AS (
  SELECT *, CASE WHEN coalesce(gender, CASE WHEN u_sex < 0.5 THEN 'female' END) = 'female'
    THEN {_pick(_FEMALE, 'u_fn')} ELSE {_pick(_MALE, 'u_fn')} END AS first_name,
    CASE WHEN coalesce(gender, CASE WHEN u_sex < 0.5 THEN 'female' END) = 'female'
    THEN {_pick(_SURNAMES_F, 'u_ln')} ELSE {_pick(_SURNAMES_M, 'u_ln')} END AS last_name
  FROM c
)
SELECT contact_id::BIGINT AS contact_id,
  CASE WHEN u_em >= 0.02 THEN {_ascii('first_name')} || '.' || {_ascii('last_name')} || contact_id || '@'
    || {_wpick([('example.pl', 6), ('poczta.example.pl', 2), ('example.com', 2)], '(u_em * 7 % 1)')} END AS email,
  first_name, last_name, gender,
  CASE WHEN u_bn >= 0.05 THEN ($as_of::DATE - to_days((365.25 * (18 + 57 * pow((u_age1 + u_age2) / 2, 1.2)))::INT))
  END::DATE AS birth_date,
  CASE WHEN u_city * 50 % 1 < 0.02 THEN NULL WHEN country = 'PL' THEN {_list(c for c, _, _ in _CITIES)}[ci]
    ELSE CASE country WHEN 'DE' THEN 'Berlin' WHEN 'CZ' THEN 'Praha' ELSE 'Lwów' END END AS city,
  CASE WHEN u_city * 50 % 1 >= 0.02 AND country = 'PL' THEN {_list(r for _, r, _ in _CITIES)}[ci] END AS region,
  country,
  CASE WHEN customer_type = 'b2b' THEN {_wpick(_JOBS_B2B, 'u_job')} ELSE {_wpick(_JOBS_B2C, 'u_job')} END AS job_title,
  CASE WHEN customer_type = 'b2b' OR u_ind * 20 % 1 < 0.05 THEN {_wpick(_INDUSTRIES, 'u_ind')} END AS industry,
  CASE WHEN customer_type = 'b2b' THEN greatest(1, round(exp(ln(5000) * pow(u_sz, 1.6))))::INTEGER END AS company_size,
  customer_type,
  {_wpick([('manual', 20), ('import', 35), ('form', 45)], 'u_src')} AS lead_source,
  u_opt < 0.42 AS newsletter_opt_in,
  $as_of::TIMESTAMP - {_secs('pow(u_cr, 1.3) * 3 * 365 * 86400')} AS created_at,
  CASE WHEN u_tn < 0.08 THEN NULL ELSE list_sort(list_distinct(list_slice(
    [CASE WHEN customer_type = 'b2b' AND u_t1 < 0.6 THEN 'b2b' ELSE {_pick(_TAGS, 'u_t1')} END,
     {_pick(_TAGS, 'u_t2')}, {_pick(_TAGS, 'u_t3')}],
    1, {_wpick([(0, 15), (1, 40), (2, 30), (3, 15)], '((u_tn - 0.08) / 0.92)')})))
  END::VARCHAR[] AS tags
FROM d ORDER BY contact_id
"""


# --- orders -----------------------------------------------------------------------------
def _order_select(source: str) -> str:
    """Shared order columns; `source` yields (contact_id, ordered_at, k, customer_type)."""
    return f"""
SELECT printf('ORD-%06d', $oid0 + row_number() OVER (ORDER BY ordered_at, contact_id, k)) AS order_id,
  contact_id::BIGINT AS contact_id, ordered_at::TIMESTAMP AS ordered_at,
  CASE WHEN u_an >= 0.01  -- log-scale 20..5000 PLN, skewed low (less so for b2b)
    THEN round(20 * exp(ln(250) * pow(u_am, CASE WHEN customer_type = 'b2b' THEN 1.3 ELSE 2.0 END)), 2)
  END::DECIMAL(12, 2) AS amount,
  {_wpick([('paid', 85), ('cancelled', 9), ('refunded', 6)], 'u_st')} AS status,
  {_wpick([('web', 60), ('app', 25), ('store', 15)], 'u_ch')} AS channel
FROM (SELECT *, {_uniform_cols('o', 'an am st ch', 'contact_id, k')} FROM ({source})) ORDER BY order_id"""


_DAYS_AGO = """86400 * CASE persona WHEN 'quarterly' THEN k * 91 + u_ph * 80 + u_j * 20
  WHEN 'lapsed' THEN 380 + u_ph * 400 + k * 45 + u_j * 30 WHEN 'frequent' THEN k * (7 + u_ph * 20) + u_j * 5
  ELSE u_j * 900 END"""
_PERSONA_ORDERS = f"""
WITH c AS (
  SELECT contact_id, created_at, customer_type, {_uniform_cols('p', 'buy kind n ph', 'contact_id')},
    coalesce(gender = 'female' AND city IN ({', '.join(map(_lit, _BIG_CITIES))})  -- women 35-45 in big cities
      AND birth_date > ($as_of - INTERVAL 46 YEAR)::DATE AND birth_date <= ($as_of - INTERVAL 35 YEAR)::DATE, false) AS seg
  FROM raw.contacts
), p AS (
  SELECT *, CASE WHEN u_kind < CASE WHEN seg THEN 0.65 ELSE 0.2 END THEN 'quarterly' WHEN u_kind < 0.45 THEN 'lapsed'
    WHEN u_kind < 0.52 THEN 'frequent' ELSE 'occasional' END AS persona
  FROM c WHERE u_buy < CASE WHEN seg THEN 0.8 ELSE 0.5 END
), x AS (
  SELECT *, unnest(range(CASE persona WHEN 'quarterly' THEN 8 WHEN 'lapsed' THEN 1 + floor(u_n * 4)
    WHEN 'frequent' THEN 12 + floor(u_n * 30) ELSE 1 + floor(u_n * 3) END::INT)) AS k
  FROM p
), y AS (
  SELECT *, {_u('pj', 'contact_id, k')} AS u_j, {_u('pf', 'contact_id, k')} AS u_f FROM x
), z AS (
  SELECT contact_id, customer_type, k, created_at,
    CASE WHEN u_f < 0.003 THEN $as_of + {_secs('1 + u_j * 3 * 86400')} ELSE $as_of - {_secs(_DAYS_AGO)} END AS ordered_at
  FROM y
)
SELECT * FROM z WHERE ordered_at >= created_at"""

_DAY_ORDERS = f"""
WITH b AS (SELECT contact_id, any_value(customer_type) AS customer_type, row_number() OVER (ORDER BY contact_id) AS rn
           FROM raw.orders JOIN raw.contacts USING (contact_id) GROUP BY contact_id),
x AS (SELECT i AS k, 1 + floor({_u('dc')} * (SELECT count(*) FROM b))::BIGINT AS rn,
             $t1 - {_secs(f"{_u('dt')} * (epoch($t1) - epoch($t0))")} AS ordered_at FROM range($n) r(i))
SELECT contact_id, customer_type, k, ordered_at FROM x JOIN b USING (rn)"""


# --- events -----------------------------------------------------------------------------
def _skewed_contact(u: str, power: int, a: float, salt: str) -> str:
    """Contact id in 1..$nc, heavy-tailed with a finite head: the busiest contact gets
    ((1+a)^p - a^p) / (p * a^(p-1)) times the average (65x for (3, .08), 6x for (2, .1)).
    (rank * prime + offset) % n permutes ranks: activity is unrelated to contact_id order."""
    rank = f"floor($nc * (pow({u} + {a}, {power}) - {a ** power}) / {(1 + a) ** power - a ** power})::BIGINT"
    return f"1 + ({rank} * 2654435761 + (hash(hash($seed, '{salt}')) % $nc)::BIGINT) % $nc"


# Event times: with $skew, density rises linearly 1:3 from t0 to t1 (inverse CDF below),
# otherwise uniform; offsets are whole seconds before t1, so times fall in (t0, t1].
_WHEN = "$t1 - " + _secs("(epoch($t1) - epoch($t0)) * CASE WHEN $skew THEN (3 - sqrt(9 - 8 * {u})) / 2 ELSE {u} END")
_EVENTS_SQL = f"""
WITH w0 AS (
  SELECT 1 AS src, i, {_skewed_contact('u_c', 3, 0.08, 'web')} AS contact_id,
    {_WHEN.format(u='u_t')} AS ts,
    {_wpick(_MIX_WEB, 'u_y')} AS event_type, u_a, u_u, u_x, u_p, u_b
  FROM (SELECT i, {_uniform_cols('w', 'c t y a u x p b')} FROM range($nw) r(i))
), web AS (
  SELECT src, i, contact_id, ts, event_type,
    CASE WHEN event_type = 'page_view' THEN CASE
      CASE WHEN u_a < 0.55 THEN hash(hash($seed, contact_id, 'interest')) % 3  -- each contact has a main interest
           WHEN u_a < 0.75 THEN floor(u_a * 60) % 3 ELSE 3 END
      {' '.join(f"WHEN {a} THEN {_pick(urls, 'u_u')}" + (" || (100 + floor(u_x * 400)::INT)" if a == 1 else "")
                for a, urls in enumerate(_URLS))} END END AS url,
    CASE WHEN event_type = 'form_submit' THEN {_wpick(_FORMS, 'u_x')}
         WHEN event_type = 'survey_submit' THEN CASE WHEN u_x < 0.85 THEN 'nps_' ELSE 'csat_' END || year(ts)
    END AS form_id,
    CASE WHEN event_type = 'add_to_cart' THEN 'SKU-' || lpad((1 + floor(500 * u_p * u_p))::VARCHAR, 5, '0')
    END AS product_id,
    CASE WHEN event_type = 'form_submit' OR (event_type = 'page_view' AND u_b < 0.3)
      THEN {_wpick(_UTM, 'u_p')} END AS utm_source,
    CASE WHEN contact_id IN (SELECT contact_id FROM raw.orders) THEN 0.9 ELSE 0 END AS p_buy,
    60 + u_b * u_b * 172800 AS buy_delay
  FROM w0
  UNION ALL  -- injected: ~3% of contacts put something in the cart within the last day, half then buy
  SELECT 4, contact_id, contact_id, $t1 - {_secs(f"60 + {_u('rt', 'contact_id')} * 22 * 3600")}, 'add_to_cart',
    NULL, NULL, 'SKU-' || lpad((1 + floor(500 * {_u('rp', 'contact_id')}))::VARCHAR, 5, '0'), NULL, 0.5, NULL
  FROM raw.contacts WHERE $inject AND {_u('rc', 'contact_id')} < 0.03
), shop AS (
  SELECT src, i, k, contact_id, CASE WHEN k = 0 THEN ts
    ELSE ts + {_secs(f"coalesce(buy_delay, 1 + {_u('bd', 'i')} * (epoch($t1) - epoch(ts) - 1))")} END AS occurred_at,
    CASE WHEN k = 0 THEN event_type ELSE 'purchase' END AS event_type,
    CASE WHEN k = 0 THEN url END AS url, NULL AS campaign, form_id, product_id,
    CASE WHEN k = 0 THEN utm_source END AS utm_source
  FROM web, range(2) r(k)
  WHERE k = 0 OR (event_type = 'add_to_cart' AND {_u('buy', 'src, i')} < p_buy)
), s0 AS (
  SELECT 2 AS src, i, {_skewed_contact('u_c', 2, 0.1, 'mail')} AS contact_id, {_WHEN.format(u='u_t')} AS ts, u_k
  FROM (SELECT i, {_uniform_cols('s', 'c t k')} FROM range($ns) r(i))
), sends AS (  -- a fifth of the contacts never open anything (for "disengaged" segments)
  SELECT src, i, contact_id, CASE WHEN {_u('dormant', 'contact_id')} < 0.2 THEN 0 ELSE {_OPEN / 0.8} END AS p_open,
    {_CLICK} AS p_click, ts,
    CASE WHEN month(ts) = 11 AND u_k < 0.5 THEN 'black_friday_' || year(ts)
         WHEN month(ts) IN (3, 4, 5) AND u_k < 0.4 THEN 'spring_sale' WHEN u_k > 0.85 THEN 'webinar_invite'
         ELSE 'newsletter_' || strftime(ts, '%Y_%m') END AS campaign
  FROM s0
  UNION ALL  -- injected: the automotive expo invitation goes to automotive-industry contacts
  SELECT 3, contact_id, contact_id, 0.55, 0.45, $t1 - {_secs(f"86400 * (3 + 40 * {_u('xt', 'contact_id')})")},
    'automotive_expo_2026'
  FROM raw.contacts WHERE $inject AND industry = 'automotive' AND {_u('xs', 'contact_id')} < 0.9
), mail AS (
  SELECT src, i, k, contact_id,
    ts + {_secs("CASE k WHEN 0 THEN 0 WHEN 1 THEN 5 + 60 * u_d ELSE 60 + pow(u_d, 3) * 259200 END")}
       + {_secs("CASE k WHEN 3 THEN 5 + 600 * u_s WHEN 4 THEN 30 + 900 * u_s ELSE 0 END")} AS occurred_at,
    ['email_send', 'email_bounce', 'email_open', 'email_click', 'unsubscribe'][k + 1] AS event_type,
    CASE WHEN k = 3 THEN '/promocje/' || replace(campaign, '_', '-') END AS url, campaign, NULL AS form_id,
    NULL AS product_id, CASE WHEN k = 3 THEN 'newsletter' END AS utm_source
  FROM (SELECT *, {_uniform_cols('m', 'o d c s', 'src, i')} FROM sends), range(5) r(k)
  WHERE CASE k WHEN 0 THEN true WHEN 1 THEN u_o < {_BOUNCE}
    ELSE u_o >= {_BOUNCE} AND (u_o - {_BOUNCE}) / (1 - {_BOUNCE}) < p_open
         AND CASE k WHEN 3 THEN u_c < p_click WHEN 4 THEN u_s < {_UNSUB} ELSE true END END
), noisy AS (
  SELECT src, i, k, CASE WHEN u_n < $p_null THEN NULL  -- keyed per (src, i): a send and its opens share it
      WHEN u_n < 2 * $p_null THEN $nc + 1 + (hash(hash($seed, src, i)) % $nc)::BIGINT ELSE contact_id END AS contact_id,
    CASE WHEN event_type NOT IN ('email_send', 'add_to_cart') AND u_f < $p_future
      THEN $t1 + {_secs('1 + u_n * 3 * 86400')} ELSE occurred_at END AS occurred_at,
    event_type, url, campaign, form_id, product_id, utm_source
  FROM (SELECT *, {_uniform_cols('n', 'n', 'src, i')}, {_uniform_cols('n', 'f', 'src, i, k')}
        FROM (SELECT * FROM shop UNION ALL SELECT * FROM mail))
  WHERE occurred_at <= $t1
)
SELECT ($id0 + row_number() OVER (ORDER BY occurred_at, src, i, k))::BIGINT AS event_id,
  contact_id::BIGINT AS contact_id, occurred_at::TIMESTAMP AS occurred_at, event_type::VARCHAR AS event_type,
  url::VARCHAR AS url, campaign::VARCHAR AS campaign, form_id::VARCHAR AS form_id, product_id::VARCHAR AS product_id,
  utm_source::VARCHAR AS utm_source
FROM noisy ORDER BY event_id"""


def _event_params(seed, n, nc, t0, t1, id0, skew, noise) -> dict:
    """Split the target event count into web rows and e-mail sends (which fan out)."""
    return {"seed": seed, "nw": round(n * 60.5 / _MIX_TOTAL), "ns": round(n * 15 / _MIX_TOTAL), "nc": nc,
            "t0": t0, "t1": t1, "id0": id0, "skew": skew, "inject": noise,
            "p_null": 0.001 if noise else 0.0, "p_future": 0.0025 if noise else 0.0}


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


# --- public API ---------------------------------------------------------------------------
def generate(con, *, contacts: int = 10_000, events: int = 500_000, as_of: datetime,
             seed: int = 42) -> dict[str, int]:
    """Create schema raw and (replace) tables raw.contacts, raw.events, raw.orders; return row counts.

    Besides realistic skewed activity, the data deliberately contains edge cases the compiler
    must handle (future rows after `as_of`, NULL and orphan contact ids, NULL attributes) and
    planted patterns so typical demo segments are non-empty (abandoned carts in the last 24h,
    Kraków automotive expo mailing, quarterly buyers, lapsed buyers, heavy non-buying visitors).
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(_CONTACTS_SQL, {"seed": seed, "n": contacts, "as_of": as_of})
    con.execute("CREATE OR REPLACE TABLE raw.orders AS " + _order_select(_PERSONA_ORDERS),
                {"seed": seed, "as_of": as_of, "oid0": 0})
    con.execute("CREATE OR REPLACE TABLE raw.events AS " + _EVENTS_SQL,
                _event_params(seed, events, contacts, as_of - timedelta(days=730), as_of, 0, True, True))
    return {t: _count(con, f"raw.{t}") for t in ("contacts", "events", "orders")}


def add_day(con, *, start: datetime, end: datetime, seed: int = 43,
            events: int | None = None) -> dict[str, int]:
    """Append events and orders with timestamps in (start, end] for existing contacts.

    Simulates new activity between two incremental builds. Without `events`, the volume is
    the existing table size / 365 per day of the window (orders likewise / 730 per day), so it
    scales with whatever `generate` produced. No noise rows: the window is the point.
    """
    if end <= start:
        raise ValueError("add_day needs start < end")
    days = (end - start).total_seconds() / 86400
    nc, n_ev, id0 = con.execute("SELECT (SELECT max(contact_id) FROM raw.contacts), count(*), "
                                "coalesce(max(event_id), 0) FROM raw.events").fetchall()[0]
    n_or, oid0 = con.execute("SELECT count(*), coalesce(max(substr(order_id, 5)::BIGINT), 0) "
                             "FROM raw.orders").fetchall()[0]
    n_events = events if events is not None else max(1, round(n_ev / 365 * days))
    con.execute("INSERT INTO raw.events " + _EVENTS_SQL,
                _event_params(seed, n_events, nc, start, end, id0, False, False))
    new_events = _count(con, "raw.events") - n_ev
    n_orders = max(1, round(n_or / 730 * days)) if n_or else 0
    con.execute("INSERT INTO raw.orders " + _order_select(_DAY_ORDERS),
                {"seed": seed, "n": n_orders, "t0": start, "t1": end, "oid0": oid0})
    return {"events": new_events, "orders": _count(con, "raw.orders") - n_or}
