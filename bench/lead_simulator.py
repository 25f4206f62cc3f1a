"""Simulated tenants for the learned lead scores and churn risk (issue 20): who converts, who
churns, and the best ranking the visible facts allow (the oracle).

    from bench.lead_simulator import PROFILES, simulate, load
    sim = simulate(PROFILES["healthcare_smb"], as_of, seed=1, oracle_cutoffs=[...])
    load(con, "t1", sim)            # straight into core.contacts and core.activities

Each tenant is a day-by-day process over its contacts, vectorised over contacts (numpy):

* Contacts are created over the history (a third exist when it begins), each with visible
  traits: industry, company size, job title (seniority), country.
* Activity of nine kinds (e-mails and calls each way, meetings, support, webinars, downloads,
  forms) arrives as a self-exciting process: each kind's daily rate is a base (scaled by the
  traits, the contact's age and the season) plus an excitation that each event raises and that
  decays by `decay` a day, so interest comes in bursts that feed on themselves.
* An open lead converts on a day with a hazard `exp(intercept + fit + sum_k effect_k *
  log(1 + memory_k)) * season`, where memory_k is the contact's count of kind k decayed by
  `memory_decay` a day (a slower memory than the excitation: a webinar a month ago still
  counts), plus a constant `noise_hazard` unrelated to anything visible (noisy labels: the share
  of conversions nobody could predict). A conversion is a purchase or a subscription_start.
* Customers: a subscriber's subscription ends with a daily hazard raised by support contacts and
  lowered by engagement; a buyer buys again with a daily hazard that fades with the days since the
  last purchase (so a lapse feeds on itself), raised by engagement and lowered by support.

Everything that drives the future is visible in the data at a cut-off (traits, age, the activity
history whose exponentially decayed counts are the excitations and memories, the days since the
last purchase),
so the best possible prediction at a cut-off is the process's own probability given that state.
`simulate` estimates it for the contacts at the requested cut-offs by running the next 90 days
forward many times from their state (Rao-Blackwellised: the hazards along each path are
multiplied rather than drawn), and returns it with who actually converted or churned; the AUC of
that probability is the oracle AUC.

Profiles differ in what drives conversion (industry, size, seniority, kinds of activity, season),
in how many convert, and in label noise; two are meant to fall back to the rule (too few
conversions, too short a history).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

KINDS = ("email_in", "email_out", "call_in", "call_out", "meeting", "support", "webinar",
         "download", "form_submission")
KIND_ACTIVITY = {  # kind -> (type, direction)
    "email_in": ("email", "inbound"), "email_out": ("email", "outbound"),
    "call_in": ("call", "inbound"), "call_out": ("call", "outbound"),
    "meeting": ("meeting", None), "support": ("support", None), "webinar": ("webinar", None),
    "download": ("download", None), "form_submission": ("form_submission", None),
}
SIZE_BANDS = ("1-19", "20-99", "100-249", "250-999", "1000+")
SIZE_RANGES = ((2, 19), (20, 99), (100, 249), (250, 999), (1000, 20000))
SENIORITY = ("top", "high", "mid", "other", "none")
TITLES = {"top": ("CEO", "Founder", "CFO", "Owner"), "high": ("VP Sales", "Head of IT", "Director"),
          "mid": ("Marketing Manager", "Team Lead", "Office Manager"),
          "other": ("Analyst", "Nurse", "Engineer", "Assistant"), "none": ("",)}
COUNTRIES = ("US", "GB", "DE", "FR", "CA")
HORIZON = 90


@dataclass(frozen=True)
class Profile:
    """What drives a simulated tenant."""

    name: str
    contacts: int
    history_days: int = 900
    industries: dict = field(default_factory=lambda: {
        "healthcare": 0.2, "software": 0.2, "retail": 0.2, "manufacturing": 0.15,
        "financial services": 0.15, "education": 0.1})
    size_shares: tuple = (0.35, 0.3, 0.15, 0.12, 0.08)
    seniority_shares: tuple = (0.1, 0.2, 0.3, 0.3, 0.1)
    # activity: base daily rate per kind, and the process
    base_rates: dict = field(default_factory=lambda: {
        "email_in": 0.003, "email_out": 0.012, "call_in": 0.001, "call_out": 0.003,
        "meeting": 0.0015, "support": 0.0008, "webinar": 0.002, "download": 0.003,
        "form_submission": 0.002})
    decay: float = 0.92  # excitation kept from one day to the next
    memory_decay: float = 0.985  # what conversion and churn remember of each kind, day to day
    self_excitation: float = 0.035  # added to a kind's daily rate per event of that kind
    cross_excitation: float = 0.15  # base rates x (1 + this x all excitation)
    age_halflife_days: float = 240.0  # interest fades with the contact's age, to half by then
    industry_activity: dict = field(default_factory=dict)  # industry -> {kind: log multiplier}
    # conversion of open leads (daily hazard)
    intercept: float = -8.0
    industry_effect: dict = field(default_factory=dict)
    size_effect: tuple = (0.0, 0.0, 0.0, 0.0, 0.0)
    seniority_effect: tuple = (0.0, 0.0, 0.0, 0.0, 0.0)
    kind_effect: dict = field(default_factory=dict)  # kind -> effect of log(1 + excitation)
    season_amplitude: float = 0.0  # log-scale amplitude of conversion seasonality
    season_peak_day: int = 320  # day of year of the peak
    noise_hazard: float = 0.0  # daily conversions unrelated to anything visible
    # customers
    subscription_share: float = 0.4
    churn_intercept: float = -6.0  # subscriber's daily hazard of ending
    churn_support: float = 0.8
    churn_engagement: float = -0.6
    rebuy_intercept: float = -3.6  # buyer's daily hazard of buying again ...
    rebuy_lapse_days: float = 120.0  # ... fading with days since the last purchase
    rebuy_engagement: float = 0.5
    rebuy_support: float = -0.6
    customer_activity: float = 1.5  # customers' activity base rates x this
    mean_order: float = 400.0


def _profiles() -> dict[str, Profile]:
    # The example: healthcare firms and small companies convert more; webinars signal
    # intent; seniority and e-mail opens (e-mails to them) do not. The rule expects the opposite.
    healthcare = Profile(
        "healthcare_smb", contacts=20_000,
        industry_effect={"healthcare": 1.0, "education": 0.3, "software": -0.4,
                         "financial services": -0.4},
        size_effect=(0.7, 0.35, 0.0, -0.4, -0.8),
        kind_effect={"webinar": 1.1, "form_submission": 0.5, "download": 0.3, "meeting": 0.3},
        industry_activity={"healthcare": {"webinar": 0.4}},
        season_amplitude=0.25,
    )
    enterprise = Profile(
        "enterprise", contacts=20_000, intercept=-7.8,
        size_shares=(0.15, 0.2, 0.2, 0.25, 0.2), seniority_shares=(0.15, 0.3, 0.3, 0.2, 0.05),
        industry_effect={"software": 0.6, "financial services": 0.5, "retail": -0.3},
        size_effect=(-0.8, -0.3, 0.2, 0.5, 0.8), seniority_effect=(0.7, 0.5, 0.1, -0.3, -0.6),
        kind_effect={"meeting": 0.9, "call_in": 0.5, "email_in": 0.3},
    )
    seasonal = Profile(
        "seasonal", contacts=20_000, intercept=-7.4,
        industry_effect={"retail": 0.6, "manufacturing": 0.2},
        size_effect=(0.2, 0.3, 0.1, -0.1, -0.3),
        kind_effect={"download": 0.8, "form_submission": 0.8, "email_in": 0.3},
        season_amplitude=0.8, season_peak_day=325,
    )
    noisy = replace(healthcare, name="noisy", noise_hazard=0.0004)
    few = replace(healthcare, name="few_conversions", contacts=400, intercept=-9.0)
    young = replace(healthcare, name="young", history_days=200)
    return {p.name: p for p in (healthcare, enterprise, seasonal, noisy, few, young)}


PROFILES = _profiles()


@dataclass
class Simulation:
    """A simulated tenant: its contacts, its activities, and the oracle at the cut-offs asked."""

    profile: Profile
    as_of: datetime.date
    contacts: pl.DataFrame
    activities: pl.DataFrame
    oracle: pl.DataFrame  # target, cutoff, contact_id, probability, label


class _State:
    """Per-contact state, vectorised."""

    def __init__(self, profile: Profile, n: int, rng: np.random.Generator):
        p = profile
        self.n = n
        names = list(p.industries)
        self.industry = rng.choice(len(names), size=n, p=np.array(list(p.industries.values()))
                                   / sum(p.industries.values()))
        self.size_band = rng.choice(5, size=n, p=np.array(p.size_shares) / sum(p.size_shares))
        self.seniority = rng.choice(5, size=n, p=np.array(p.seniority_shares)
                                    / sum(p.seniority_shares))
        # fit part of the conversion log-hazard
        ind = np.array([p.industry_effect.get(name, 0.0) for name in names])
        self.fit = ind[self.industry] + np.array(p.size_effect)[self.size_band] \
            + np.array(p.seniority_effect)[self.seniority]
        # base activity rates per contact and kind (traits only)
        base = np.array([p.base_rates[k] for k in KINDS])
        mult = np.zeros((len(names), len(KINDS)))
        for i, name in enumerate(names):
            for k, v in p.industry_activity.get(name, {}).items():
                mult[i, KINDS.index(k)] = v
        self.base = base[None, :] * np.exp(mult[self.industry])
        self.effects = np.array([p.kind_effect.get(k, 0.0) for k in KINDS])
        self.excitation = np.zeros((n, len(KINDS)))
        self.memory = np.zeros((n, len(KINDS)))
        self.status = np.zeros(n, np.int8)  # 0 open lead, 1 subscriber, 2 buyer, 3 churned
        self.last_purchase = np.full(n, -10_000.0)


def _season(profile: Profile, day_of_year: np.ndarray | float) -> np.ndarray | float:
    return np.exp(profile.season_amplitude
                  * np.cos(2 * math.pi * (day_of_year - profile.season_peak_day) / 365.25))


def _rates(p: Profile, st_base, excitation, age_days, status, season_act):
    """Daily activity rates per contact and kind."""
    fade = 0.3 + 0.7 * np.power(0.5, np.maximum(age_days, 0) / p.age_halflife_days)
    customer = np.where(status == 1, p.customer_activity, np.where(status == 2,
                        p.customer_activity, 1.0))
    boost = 1.0 + p.cross_excitation * excitation.sum(axis=1)
    return (st_base * (fade * customer * boost * season_act)[:, None]
            + p.self_excitation * excitation)


def _draw(rng: np.random.Generator, rates: np.ndarray) -> np.ndarray:
    """Poisson counts per contact and kind: the day's total per contact first, then its split
    by kind for the few contacts with any event (a draw per contact rather than per kind)."""
    totals = rates.sum(axis=1)
    n = rng.poisson(totals)
    counts = np.zeros(rates.shape, np.int64)
    hit = np.nonzero(n)[0]
    if hit.size:
        counts[hit] = rng.multinomial(n[hit], rates[hit] / totals[hit, None])
    return counts


def _conversion_hazard(p: Profile, fit, effects, memory, season) -> np.ndarray:
    z = p.intercept + fit + np.log1p(memory) @ effects
    return np.minimum(np.exp(z) * season + p.noise_hazard, 0.5)


def _churn_hazard(p: Profile, memory) -> np.ndarray:
    support = np.log1p(memory[:, KINDS.index("support")])
    engaged = np.log1p(memory[:, [KINDS.index("meeting"), KINDS.index("email_in"),
                                  KINDS.index("webinar")]].sum(axis=1))
    return np.minimum(np.exp(p.churn_intercept + p.churn_support * support
                             + p.churn_engagement * engaged), 0.5)


def _rebuy_hazard(p: Profile, memory, days_since) -> np.ndarray:
    support = np.log1p(memory[:, KINDS.index("support")])
    engaged = np.log1p(memory[:, [KINDS.index("meeting"), KINDS.index("email_in"),
                                  KINDS.index("webinar")]].sum(axis=1))
    return np.minimum(np.exp(p.rebuy_intercept - days_since / p.rebuy_lapse_days
                             + p.rebuy_engagement * engaged + p.rebuy_support * support), 0.5)


def simulate(profile: Profile, as_of: datetime.date, seed: int = 0,
             oracle_cutoffs: list[datetime.date] | None = None, replicas: int = 32,
             contacts: int | None = None) -> Simulation:
    """Simulate a tenant whose history ends on `as_of`; the oracle at each of `oracle_cutoffs`."""
    p = profile if contacts is None else replace(profile, contacts=contacts)
    rng = np.random.default_rng(seed)
    days = p.history_days
    start = as_of - datetime.timedelta(days=days)
    n = p.contacts
    st = _State(p, n, rng)
    # a third exist at the start (created up to two years before it), the rest arrive over time
    created = np.where(rng.random(n) < 1 / 3, -rng.integers(0, 730, n),
                       rng.integers(0, days + 1, n)).astype(np.int64)
    oracle_days = {(c - start).days: c for c in (oracle_cutoffs or [])}
    # events as arrays per day: contact, day, kind (a KINDS index; 9 purchase, 10 subscription
    # start, 11 subscription end)
    events_contact: list[np.ndarray] = []
    events_day: list[np.ndarray] = []
    events_kind: list[np.ndarray] = []
    oracle_rows = []
    converted_day = np.full(n, -1)
    for t in range(days + 1):
        date = start + datetime.timedelta(days=t)
        doy = date.timetuple().tm_yday
        season = _season(p, doy)
        season_act = 1.0 + 0.5 * (season - 1.0)  # activity follows the season, damped
        alive = created <= t
        idx = np.nonzero(alive & (st.status != 3))[0]
        if idx.size == 0:
            continue
        rates = _rates(p, st.base[idx], st.excitation[idx], t - created[idx], st.status[idx],
                       season_act)
        counts = _draw(rng, rates)
        rows, kinds = np.nonzero(counts)
        repeat = counts[rows, kinds]
        events_contact.append(np.repeat(idx[rows], repeat))
        events_kind.append(np.repeat(kinds, repeat))
        events_day.append(np.full(int(repeat.sum()), t))
        # leads convert
        leads = idx[st.status[idx] == 0]
        h = _conversion_hazard(p, st.fit[leads], st.effects, st.memory[leads], season)
        conv = leads[rng.random(leads.size) < h]
        if conv.size:
            sub = rng.random(conv.size) < p.subscription_share
            st.status[conv] = np.where(sub, 1, 2)
            st.last_purchase[conv[~sub]] = t
            converted_day[conv] = t
            events_contact.append(conv)
            events_day.append(np.full(conv.size, t))
            events_kind.append(np.where(sub, 10, 9))
        # subscribers end, buyers buy again
        subs = idx[st.status[idx] == 1]
        subs = subs[converted_day[subs] < t]
        ended = subs[rng.random(subs.size) < _churn_hazard(p, st.memory[subs])]
        st.status[ended] = 3
        events_contact.append(ended)
        events_day.append(np.full(ended.size, t))
        events_kind.append(np.full(ended.size, 11))
        buyers = idx[st.status[idx] == 2]
        buyers = buyers[st.last_purchase[buyers] < t]
        again = buyers[rng.random(buyers.size) < _rebuy_hazard(
            p, st.memory[buyers], t - st.last_purchase[buyers])]
        st.last_purchase[again] = t
        events_contact.append(again)
        events_day.append(np.full(again.size, t))
        events_kind.append(np.full(again.size, 9))
        st.excitation *= p.decay
        st.excitation[idx] += counts
        st.memory *= p.memory_decay
        st.memory[idx] += counts
        if t in oracle_days:
            oracle_rows.append(_oracle(p, st, created, t, oracle_days[t], start, rng, replicas,
                                       events_contact, events_day, events_kind))
    contacts_frame = _contacts_frame(p, st, created, start, rng)
    activities = _activities_frame(p, *(np.concatenate(a).astype(np.int64) if a else
                                        np.zeros(0, np.int64)
                                        for a in (events_contact, events_day, events_kind)),
                                   start, rng)
    oracle = pl.concat(oracle_rows) if oracle_rows else pl.DataFrame(
        schema={"target": pl.Utf8, "cutoff": pl.Date, "contact_id": pl.Utf8,
                "probability": pl.Float64})
    return Simulation(p, as_of, contacts_frame, activities, oracle)


def _oracle(p: Profile, st: _State, created, t: int, cutoff: datetime.date, start, rng,
            replicas: int, ev_contact, ev_day, ev_kind) -> pl.DataFrame:
    """The process's own probability, from each contact's state at the end of day t, that an
    open lead converts (or an observable customer churns) within the next HORIZON days."""
    known = created <= t
    parts = []
    for target in ("conversion", "churn"):
        if target == "conversion":
            who = np.nonzero(known & (st.status == 0))[0]
        else:
            ev_c, ev_d, ev_k = (np.concatenate(a) for a in (ev_contact, ev_day, ev_kind))
            recent = (ev_k == 9) & (ev_d > t - 366) & (ev_d <= t)
            days_bought = pl.DataFrame({"c": ev_c[recent], "d": ev_d[recent]}).unique() \
                .group_by("c").len()
            repeat = np.zeros(st.n, bool)
            repeat[days_bought.filter(pl.col("len") >= 2)["c"].to_numpy()] = True
            subscriber = st.status == 1
            buyer_customer = (st.status == 2) & (t - st.last_purchase <= 365)
            who = np.nonzero(known & (subscriber | (buyer_customer & repeat)))[0]
        if who.size == 0:
            continue
        m = who.size
        rep = np.repeat(who, replicas)
        exc = np.repeat(st.excitation[who], replicas, axis=0)
        mem = np.repeat(st.memory[who], replicas, axis=0)
        status = np.repeat(st.status[who], replicas)
        age = np.repeat(t - created[who], replicas).astype(float)
        base = np.repeat(st.base[who], replicas, axis=0)
        last = np.repeat(st.last_purchase[who], replicas).astype(float)
        survive = np.ones(rep.size)
        for s in range(1, HORIZON + 1):
            date = start + datetime.timedelta(days=t + s)
            season = _season(p, date.timetuple().tm_yday)
            season_act = 1.0 + 0.5 * (season - 1.0)
            rates = _rates(p, base, exc, age + s, status, season_act)
            if target == "conversion":
                h = _conversion_hazard(p, st.fit[rep], st.effects, mem, season)
            else:
                h = np.where(status == 1, _churn_hazard(p, mem),
                             _rebuy_hazard(p, mem, (t + s) - last))
            survive *= 1.0 - h
            new = _draw(rng, rates)
            exc = exc * p.decay + new
            mem = mem * p.memory_decay + new
        event = 1.0 - survive.reshape(m, replicas).mean(axis=1)
        if target == "churn":  # a buyer churns by not buying: the "no purchase" survival
            event = np.where(st.status[who] == 1, event, 1.0 - event)
        parts.append(pl.DataFrame({
            "target": target, "cutoff": [cutoff] * m,
            "contact_id": [f"c_{i:07d}" for i in who], "probability": event,
        }, schema_overrides={"cutoff": pl.Date}))
    return pl.concat(parts) if parts else pl.DataFrame()


def _contacts_frame(p: Profile, st: _State, created, start, rng) -> pl.DataFrame:
    names = list(p.industries)
    lo = np.array([r[0] for r in SIZE_RANGES])[st.size_band]
    hi = np.array([r[1] for r in SIZE_RANGES])[st.size_band]
    size = (lo + rng.random(st.n) * (hi - lo)).astype(np.int64)
    titles = [TITLES[SENIORITY[s]][rng.integers(len(TITLES[SENIORITY[s]]))] for s in st.seniority]
    created_at = [datetime.datetime.combine(start, datetime.time(9)) + datetime.timedelta(
        days=int(d), minutes=int(m)) for d, m in zip(created, rng.integers(0, 480, st.n),
                                                       strict=True)]
    return pl.DataFrame({
        "contact_id": [f"c_{i:07d}" for i in range(st.n)],
        "industry": [names[i] for i in st.industry],
        "company_size": size,
        "job_title": [t or None for t in titles],
        "country": [COUNTRIES[i] for i in rng.integers(0, len(COUNTRIES), st.n)],
        "created_at": created_at,
    })


def _activities_frame(p: Profile, contact, day, kind, start, rng) -> pl.DataFrame:
    n = contact.size
    types = [KIND_ACTIVITY[k][0] for k in KINDS] + ["purchase", "subscription_start",
                                                    "subscription_end"]
    directions = [KIND_ACTIVITY[k][1] for k in KINDS] + [None, None, None]
    seconds = rng.integers(8 * 3600, 20 * 3600, n)
    base = np.datetime64(start.isoformat()) + day.astype("timedelta64[D]")
    occurred = (base.astype("datetime64[s]") + seconds.astype("timedelta64[s]")).astype(
        "datetime64[us]")
    amount = np.where(kind == 9, np.round(rng.gamma(2.0, p.mean_order / 2.0, n), 2), np.nan)
    frame = pl.DataFrame({
        "activity_id": [f"a_{i:08d}" for i in range(n)],
        "contact_id": [f"c_{i:07d}" for i in contact],
        "type": [types[k] for k in kind],
        "direction": [directions[k] for k in kind],
        "occurred_at": occurred,
        "amount": amount,
    })
    return frame.with_columns(pl.col("amount").fill_nan(None))


def load(con, tenant_id: str, sim: Simulation) -> None:
    """The simulated contacts and activities written straight into core.contacts and
    core.activities (no import: for tests and benchmarks)."""
    con.execute("INSERT INTO core.tenants VALUES ($t, NULL, 'US', 'USD', NULL, $at) "
                "ON CONFLICT DO NOTHING",
                {"t": tenant_id, "at": datetime.datetime.combine(sim.as_of, datetime.time())}
                ).fetchall()
    contacts = sim.contacts.with_columns(pl.lit(tenant_id).alias("tenant_id"))
    seen = datetime.datetime.combine(sim.as_of, datetime.time(23))
    con.register("_sim_contacts", contacts)
    con.register("_sim_activities", sim.activities)
    try:
        con.execute("""
            INSERT INTO core.contacts (tenant_id, contact_id, source_id, company, job_title,
                industry, company_size, country, created_at, consent_status, email_status,
                phone_status, first_seen_at, updated_at)
            SELECT tenant_id, contact_id, contact_id, 'Company ' || contact_id, job_title,
                   industry, company_size, country, created_at, 'granted', 'valid', 'missing',
                   $seen, $seen
            FROM _sim_contacts
            """, {"seen": seen}).fetchall()
        con.execute("""
            INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, occurred_at,
                actor, direction, amount, currency, amount_base, content_hash, import_id,
                line_number)
            SELECT $t, activity_id, contact_id, type, occurred_at, 'sim', direction, amount,
                   CASE WHEN amount IS NOT NULL THEN 'USD' END, amount, 'sim', 'sim',
                   row_number() OVER ()
            FROM _sim_activities
            """, {"t": tenant_id}).fetchall()
    finally:
        con.unregister("_sim_contacts")
        con.unregister("_sim_activities")
