"""Write the embedded sample in data/sample/: contact exports and activity logs for three tenants.

The sample is what `crm demo` runs on, so it has to look like real exports (three vendors'
formats, encodings and date styles) and carry the problems real exports carry: duplicates
across and within files, messy values, footers, ragged rows, bad activity lines. Every such
trap is listed in data/sample/README.md and, row by row, in data/sample/truth/.

Deterministic: seeded `random.Random` streams, no clock, no Faker, standard library only, so
`python data/generate_sample.py [OUT_DIR]` rewrites the directory byte-identically every time
(a test regenerates it into a temporary directory and compares).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from random import Random

AS_OF_DT = datetime(2026, 11, 15, tzinfo=UTC)
WINDOW_START = datetime(2025, 5, 15, tzinfo=UTC)  # 18 months before the as-of date
SEED = 20261115
DAY = timedelta(days=1)
LAST_MOMENT = AS_OF_DT - timedelta(minutes=30)  # latest time of a past event

AGENTS = ("mercer", "cheryl", "binky")
SYSTEM_ACTOR = "pipeline"
CURRENCIES = ("USD", "GBP", "EUR")
ACTIVITY_TYPES = (
    "email",
    "call",
    "meeting",
    "support",
    "purchase",
    "webinar",
    "download",
    "form_submission",
    "subscription_start",
    "subscription_end",
    "email_bounce",
    "refund",
)

# ----------------------------------------------------------------------------------------------
# Reference pools (small, hand-written; the sample needs plausibility, not coverage)
# ----------------------------------------------------------------------------------------------

NICKNAMES = {
    "Robert": "Bob",
    "William": "Bill",
    "Katherine": "Kate",
    "Elizabeth": "Liz",
    "Michael": "Mike",
    "James": "Jim",
    "Jennifer": "Jen",
    "Thomas": "Tom",
    "Margaret": "Maggie",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "Joseph": "Joe",
    "Alexander": "Alex",
    "Richard": "Rick",
    "Anthony": "Tony",
    "Matthew": "Matt",
    "Nicholas": "Nick",
    "Patricia": "Pat",
    "Rebecca": "Becky",
    "Samuel": "Sam",
    "Benjamin": "Ben",
    "Steven": "Steve",
    "Andrew": "Andy",
    "Deborah": "Debbie",
    "Kathleen": "Kathy",
    "Susan": "Sue",
    "Timothy": "Tim",
    "Jonathan": "Jon",
    "Gregory": "Greg",
    "Edward": "Ed",
    "Johannes": "Hannes",
    "Katharina": "Kathi",
    "Andreas": "Andi",
    "Stefanie": "Steffi",
    "Josef": "Sepp",
    "Elisabeth": "Lisa",
    "Frederick": "Fred",
    "Charlotte": "Lottie",
}

FIRST_NAMES = {
    "US": (
        "James Robert John Michael William David Richard Joseph Thomas Charles Christopher Daniel "
        "Matthew Anthony Mark Steven Paul Andrew Joshua Kevin Brian George Timothy Ryan Jason Eric "
        "Jacob Nicholas Jonathan Samuel Benjamin Gregory Alexander Patrick Tyler Aaron Nathan Kyle "
        "Carlos Luis Wei Raj Omar Edward Mary Patricia Jennifer Linda Elizabeth Barbara Susan "
        "Jessica Sarah Karen Lisa Nancy Margaret Sandra Ashley Katherine Emily Michelle Amanda "
        "Melissa Deborah Stephanie Rebecca Laura Sharon Cynthia Kathleen Amy Angela Anna Olivia "
        "Emma Sophia Grace Hannah Priya Mei Fatima Maria"
    ).split(),
    "GB": (
        "Oliver George Harry Jack Charlie Thomas James William Henry Edward Alfie Freddie Archie "
        "Arthur Oscar Samuel Daniel Joseph Benjamin Alexander Robert Richard Stephen Andrew Ian "
        "Graham Nigel Colin Gareth Rhys Callum Hamish Frederick Amelia Olivia Isla Ava Emily "
        "Sophie Grace Lily Charlotte Poppy Jessica Katherine Elizabeth Margaret Sarah Rebecca Lucy "
        "Hannah Eleanor Fiona Niamh Priya Aisha Imogen Harriet Bethan"
    ).split(),
    "DE": (
        "Jürgen Jörg Björn Sören Günther Hans Peter Klaus Wolfgang Michael Thomas Andreas Stefan "
        "Christian Markus Alexander Johannes Matthias Tobias Florian Lukas Felix Maximilian Jonas "
        "Leon Paul Uwe Dieter Holger Rüdiger Josef Katharina Anna Maria Sabine Petra Andrea "
        "Stefanie Julia Laura Lena Sophie Hannah Lea Claudia Susanne Birgit Ute Gisela Bärbel "
        "Käthe Elisabeth Jana Nina Sarah Mehmet"
    ).split(),
}
ACCENTED_FIRST = {
    "US": ["José", "Zoë", "Renée", "François", "Inés"],
    "GB": ["Siobhán", "Seán", "Zoë", "Chloé", "Aoife"],
    "DE": ["André", "Hélène", "Zoë", "Ayşe", "Renée"],
}

LAST_NAMES = {
    "US": (
        "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
        "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White "
        "Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres "
        "Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts "
        "Patel Kim Chen O'Brien McDonald Sullivan Murphy Cohen Schwartz Kowalski Novak Fitzgerald "
        "Bennett Brooks Price Reed Cook Morgan Bell Howard Ward Cox Peterson Gray Ramos Watson "
        "Kelly Sanders Long Ross Foster Powell Jenkins Perry Russell Hughes Butler Simmons Fisher "
        "Henderson Coleman Hayes Myers Ford Graham Wallace Woods Cole West Jordan Owens Reynolds "
        "Ellis Harrison Gibson Cruz Marshall Ortiz Gomez Murray Freeman Wells Webb Simpson Stevens "
        "Tucker Porter Hunter Hicks Crawford Henry Boyd Mason Kennedy Warren Dixon Burns Gordon "
        "Shaw Holmes Rice Robertson Black Daniels Palmer Mills Nichols Grant Knight Ferguson Rose "
        "Stone Hawkins Dunn Perkins Hudson Spencer Gardner Stephens Payne Pierce Berry Matthews "
        "Arnold Wagner Willis Ray Watkins Olson Carroll Duncan Snyder Hart Cunningham Bradley Lane "
        "Andrews Ruiz Harper Fox Riley Armstrong Carpenter Weaver Greene Lawrence Elliott Chavez"
    ).split(),
    "GB": (
        "Smith Jones Taylor Williams Brown Davies Evans Wilson Thomas Roberts Johnson Lewis Walker "
        "Robinson Wood Thompson White Watson Jackson Wright Green Harris Cooper King Lee Martin "
        "Clarke James Morgan Hughes Edwards Hill Moore Clark Harrison Scott Young Morris Hall Ward "
        "Turner Carter Phillips Mitchell Patel Adams Campbell Anderson Allen Cook Bailey Parker "
        "Miller Davis Murphy Price Bell Baker Griffiths Kelly Simpson Marshall Collins Bennett Cox "
        "Richardson Fox Gray Rose Chapman Hunt Robertson Shaw Reynolds Lloyd Ellis Richards "
        "Russell "
        "Wilkinson Khan Graham Stewart Reid Murray Powell Palmer Holmes Rogers Stevens Walsh "
        "Hunter "
        "Thomson Matthews Ross Owen Mason Knight Kennedy Butler Saunders MacDonald O'Neill "
        "McLaughlin Ahmed Singh Ali Fitzwilliam Featherstonehaugh Pryce Vaughan Llewellyn Doyle "
        "Quinn Barker Howells Pearson Goodwin Whitehead Sutton Lowe Fletcher Hartley Booth Nash"
    ).split(),
    "DE": (
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
        "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann "
        "Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler "
        "Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn "
        "Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann "
        "Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Schumacher Krämer Vogt Stein "
        "Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich "
        "Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Voigt Sauer Arnold Wolff Pfeiffer "
        "Özdemir Kaya Nowak"
    ).split(),
}
PARTICLE_LAST = {
    "US": ["van der Berg", "De La Cruz"],
    "GB": ["de Souza", "Ap Rhys"],
    "DE": ["von Bülow", "zu Salm", "Yılmaz", "Şahin"],
}

TITLES = {
    "en": [
        "CEO",
        "Founder",
        "CTO",
        "CFO",
        "COO",
        "VP Sales",
        "VP Marketing",
        "Head of Operations",
        "Sales Manager",
        "Account Executive",
        "Marketing Manager",
        "Engineer",
        "Software Engineer",
        "Senior Engineer",
        "Product Manager",
        "Office Manager",
        "Procurement Lead",
        "HR Director",
        "Consultant",
        "Analyst",
        "IT Manager",
        "Operations Manager",
        "Director of Finance",
        "Customer Success Manager",
    ],
    "de": [
        "Geschäftsführer",
        "Geschäftsführerin",
        "Vertriebsleiter",
        "Einkaufsleiterin",
        "Ingenieur",
        "Projektleiterin",
        "Marketing Manager",
        "Leiter IT",
        "Prokurist",
        "Softwareentwickler",
        "Assistenz der Geschäftsführung",
        "CEO",
        "Head of Sales",
        "Teamleiter Logistik",
        "Buchhalterin",
    ],
}

# industry key -> (HubSpot label, Salesforce label, Pipedrive label in German)
INDUSTRIES = {
    "software": ("Computer Software", "Technology", "Software"),
    "it": ("Information Technology & Services", "Technology", "IT-Dienstleistungen"),
    "finance": ("Financial Services", "Finance", "Finanzdienstleistungen"),
    "health": ("Hospital & Health Care", "Healthcare", "Gesundheitswesen"),
    "retail": ("Retail", "Retail", "Handel"),
    "machinery": ("Machinery", "Manufacturing", "Maschinenbau"),
    "logistics": ("Logistics & Supply Chain", "Transportation", "Logistik"),
    "construction": ("Construction", "Construction", "Bauwesen"),
    "food": ("Food & Beverages", "Food & Beverage", "Lebensmittel"),
    "marketing": ("Marketing & Advertising", "Media", "Werbung & Marketing"),
    "education": ("Education Management", "Education", "Bildung"),
    "consulting": ("Management Consulting", "Consulting", "Beratung"),
    "energy": ("Renewables & Environment", "Energy", "Energie"),
}
INDUSTRY_KEYS = list(INDUSTRIES)

COMPANY_WORDS_A = (
    "Blue North Silver Bright Iron Red Oak Summit Harbor Pioneer Granite Lumen Vertex Cedar "
    "Falcon Maple Quantum Nova Orbit Beacon Copper Evergreen Keystone Lakeside Meridian Pinnacle "
    "Redwood Sterling Tidewater Westfield Crescent Horizon Juniper Lighthouse Northwind Sapphire "
    "Timber Willow Cobalt Clearwater Ridgeline Stonebridge Apex Bluefin"
).split()
COMPANY_WORDS_B = (
    "Analytics Logistics Foods Dynamics Systems Health Partners Labs Robotics Media Capital "
    "Energy Works Solutions Software Builders Textiles Instruments Consulting Networks Medical "
    "Freight Retail Engineering Data Supply Ventures"
).split()
DE_COMPANY_SECTORS = (
    "Maschinenbau Logistik Elektrotechnik Software Bau Druck Medizintechnik Lebensmittel "
    "Beratung Metallbau Haustechnik Verpackung Systeme Automation"
).split()
SUFFIXES = {
    "US": ["Inc.", "LLC", "Corp.", "Co.", "Inc."],
    "GB": ["Ltd", "Limited", "Ltd.", "plc", "LLP"],
    "DE": ["GmbH", "AG", "GmbH & Co. KG", "KG", "GmbH", "e.K."],
}
# suffix -> variants a person might type instead
SUFFIX_VARIANTS = {
    "Inc.": [", Inc", " Inc", " Incorporated", ""],
    "LLC": [", LLC", " L.L.C.", ""],
    "Corp.": [" Corporation", " Corp", ""],
    "Co.": [" Company", ""],
    "Ltd": [" Limited", " Ltd.", ""],
    "Limited": [" Ltd", " LTD", ""],
    "Ltd.": [" Ltd", " Limited", ""],
    "plc": [" PLC", " Plc", ""],
    "LLP": [" L.L.P.", ""],
    "GmbH": [" mbH", " Gmbh", ""],
    "AG": [" Aktiengesellschaft", ""],
    "GmbH & Co. KG": [" GmbH & Co KG", " GmbH", ""],
    "KG": [""],
    "e.K.": [" eK", ""],
}
PERSONAL_DOMAINS = {
    "US": ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com"],
    "GB": ["gmail.com", "btinternet.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk"],
    "DE": ["gmail.com", "web.de", "gmx.de", "t-online.de", "outlook.de"],
}
TLD = {"US": ".com", "GB": ".co.uk", "DE": ".de"}


@dataclass(frozen=True)
class City:
    name: str
    state: str
    state_full: str
    postcodes: tuple
    areas: tuple  # (area code, local prefix, local digits to draw)


CITIES = {
    "US": [
        City(
            "Boston",
            "MA",
            "Massachusetts",
            ("02108", "02116", "02134", "02210"),
            (("617", "55501", 2), ("857", "55501", 2)),
        ),
        City(
            "Cambridge",
            "MA",
            "Massachusetts",
            ("02139", "02142"),
            (("617", "55501", 2), ("781", "55501", 2)),
        ),
        City("Hoboken", "NJ", "New Jersey", ("07030",), (("201", "55501", 2),)),
        City("Newark", "NJ", "New Jersey", ("07102", "07105"), (("973", "55501", 2),)),
        City("Providence", "RI", "Rhode Island", ("02903", "02906"), (("401", "55501", 2),)),
        City("Hartford", "CT", "Connecticut", ("06103", "06106"), (("860", "55501", 2),)),
        City("Portland", "ME", "Maine", ("04101",), (("207", "55501", 2),)),
        City(
            "New York",
            "NY",
            "New York",
            ("10001", "10016", "10118", "10282"),
            (("212", "55501", 2), ("646", "55501", 2)),
        ),
        City(
            "Chicago",
            "IL",
            "Illinois",
            ("60601", "60614"),
            (("312", "55501", 2), ("773", "55501", 2)),
        ),
        City("Austin", "TX", "Texas", ("78701", "78704"), (("512", "55501", 2),)),
        City("Denver", "CO", "Colorado", ("80202",), (("303", "55501", 2),)),
        City("Seattle", "WA", "Washington", ("98101", "98109"), (("206", "55501", 2),)),
        City(
            "San Francisco",
            "CA",
            "California",
            ("94105", "94110"),
            (("415", "55501", 2), ("628", "55501", 2)),
        ),
        City("Atlanta", "GA", "Georgia", ("30303", "30309"), (("404", "55501", 2),)),
        City("Miami", "FL", "Florida", ("33131",), (("305", "55501", 2),)),
        City("Minneapolis", "MN", "Minnesota", ("55401",), (("612", "55501", 2),)),
        City("Phoenix", "AZ", "Arizona", ("85004",), (("602", "55501", 2),)),
        City("Columbus", "OH", "Ohio", ("43215",), (("614", "55501", 2),)),
    ],
    "GB": [
        City(
            "London",
            "",
            "Greater London",
            ("E1", "EC1A", "EC2A", "N1", "NW1", "SE1", "SW1A", "SW11", "W1D", "WC2H"),
            (("20", "79460", 3), ("20", "79461", 3)),
        ),
        City(
            "Manchester", "", "Greater Manchester", ("M1", "M2", "M4", "M15"), (("161", "4960", 3),)
        ),
        City("Leeds", "", "West Yorkshire", ("LS1", "LS2", "LS6"), (("113", "4960", 3),)),
        City("Bristol", "", "Bristol", ("BS1", "BS2", "BS8"), (("117", "4960", 3),)),
        City("Birmingham", "", "West Midlands", ("B1", "B2", "B15"), (("121", "4960", 3),)),
        City("Edinburgh", "", "City of Edinburgh", ("EH1", "EH2", "EH3"), (("131", "4960", 3),)),
        City("Glasgow", "", "Glasgow City", ("G1", "G2", "G12"), (("141", "4960", 3),)),
        City("Cardiff", "", "Cardiff", ("CF10", "CF11"), (("29", "20180", 3),)),
        City("Sheffield", "", "South Yorkshire", ("S1", "S10"), (("114", "4960", 3),)),
        City("Liverpool", "", "Merseyside", ("L1", "L3", "L17"), (("151", "4960", 3),)),
        City("Newcastle upon Tyne", "", "Tyne and Wear", ("NE1", "NE2"), (("191", "4980", 3),)),
    ],
    "DE": [
        City(
            "Berlin",
            "BE",
            "Berlin",
            ("10115", "10117", "10178", "10719", "12043"),
            (("30", "23125", 3), ("30", "", 8)),
        ),
        City(
            "Hamburg",
            "HH",
            "Hamburg",
            ("20095", "20354", "22765"),
            (("40", "66969", 3), ("40", "", 8)),
        ),
        City(
            "München",
            "BY",
            "Bayern",
            ("80331", "80333", "81675"),
            (("89", "99998", 3), ("89", "", 8)),
        ),
        City(
            "Frankfurt am Main",
            "HE",
            "Hessen",
            ("60311", "60313", "60486"),
            (("69", "90009", 3), ("69", "", 8)),
        ),
        City(
            "Köln",
            "NW",
            "Nordrhein-Westfalen",
            ("50667", "50672"),
            (("221", "4710", 3), ("221", "", 7)),
        ),
        City("Stuttgart", "BW", "Baden-Württemberg", ("70173", "70176"), (("711", "", 7),)),
        City("Düsseldorf", "NW", "Nordrhein-Westfalen", ("40210", "40212"), (("211", "", 7),)),
        City("Dresden", "SN", "Sachsen", ("01067", "01069", "01097"), (("351", "", 7),)),
        City("Leipzig", "SN", "Sachsen", ("04103", "04109"), (("341", "", 7),)),
        City("Nürnberg", "BY", "Bayern", ("90402", "90403"), (("911", "", 7),)),
    ],
}
# UK mobile blocks allocated throughout (07700 900xxx, the drama range, is not a valid number)
GB_MOBILE_HEADS = tuple(str(x) for x in [*range(740, 760), *range(771, 791), *range(792, 800)])
MOBILE_AREAS = {
    "US": None,
    "GB": GB_MOBILE_HEADS,
    "DE": ("151", "152", "157", "159", "160", "170", "171", "176"),
}
STREETS = {
    "US": [
        "Main St",
        "Elm Street",
        "Market Street",
        "Commonwealth Ave",
        "Broadway",
        "Summer St",
        "Congress St",
        "Park Avenue",
        "Washington Blvd",
        "Lake Shore Dr",
        "Pine St",
        "2nd Ave",
    ],
    "GB": [
        "High Street",
        "Station Road",
        "Church Lane",
        "King's Road",
        "Victoria Street",
        "Queen Street",
        "Mill Lane",
        "The Green",
        "Park Road",
        "London Road",
    ],
    "DE": [
        "Hauptstraße",
        "Bahnhofstr.",
        "Friedrichstraße",
        "Königsallee",
        "Schillerstraße",
        "Goethestr.",
        "Lindenallee",
        "Marktplatz",
        "Industriestraße",
        "Am Hafen",
    ],
}

# ----------------------------------------------------------------------------------------------
# Tenants and files
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSpec:
    path: str  # relative to the sample directory
    vendor: str  # hubspot | salesforce | pipedrive
    share: float  # share of people whose first record is in this file
    id_style: str  # hubspot | hubspot19 | sfid | pipedrive
    date_style: str  # hubspot | sf_us | sf_uk | pipedrive
    columns: tuple
    delimiter: str = ","
    encoding: str = "utf-8"
    newline: str = "\n"
    bom: bool = False
    quote_all: bool = False
    footer: bool = False


HUBSPOT_FULL = (
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Lifecycle Stage",
    "Lead Status",
    "Contact owner",
    "Create Date",
    "Associated Company",
    "Company Name",
    "Job Title",
    "Industry",
    "Number of Employees",
    "Street Address",
    "City",
    "State/Region",
    "Postal Code",
    "Country/Region",
    "Marketing contact status",
    "Unsubscribed from all email",
    "Notes",
)
HUBSPOT_GB = (
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Mobile Phone Number",
    "Lifecycle Stage",
    "Contact owner",
    "Create Date",
    "Company Name",
    "Job Title",
    "Industry",
    "Number of Employees",
    "City",
    "Postal Code",
    "Country/Region",
    "Marketing contact status",
)
HUBSPOT_DE = (
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Mobile Phone Number",
    "Lifecycle Stage",
    "Lead Status",
    "Contact owner",
    "Create Date",
    "Company Name",
    "Job Title",
    "Number of Employees",
    "City",
    "Postal Code",
    "Country/Region",
    "Marketing contact status",
)
SALESFORCE_US = (
    "Contact ID",
    "Contact Owner",
    "First Name",
    "Last Name",
    "Title",
    "Account Name",
    "Mailing Street",
    "Mailing City",
    "Mailing State/Province",
    "Mailing Zip/Postal Code",
    "Mailing Country",
    "Phone",
    "Mobile",
    "Email",
    "Lead Source",
    "Created Date",
)
SALESFORCE_GB = (
    "Contact ID",
    "Contact Owner",
    "First Name",
    "Last Name",
    "Title",
    "Account Name",
    "Mailing Street",
    "Mailing City",
    "Mailing State/Province",
    "Mailing Zip/Postal Code",
    "Mailing Country",
    "Phone",
    "Mobile",
    "Email",
    "Lead Source",
    "Email Opt Out",
    "Employees",
    "Industry",
    "Created Date",
)
PIPEDRIVE = (
    "Person - ID",
    "Person - Name",
    "Person - First name",
    "Person - Last name",
    "Person - Organization",
    "Person - Job title",
    "Person - Email - Work",
    "Person - Email - Home",
    "Person - Phone - Work",
    "Person - Phone - Mobile",
    "Person - Label",
    "Person - Owner",
    "Person - Marketing status",
    "Person - Postal address",
    "Person - Postal address - City/town/village/locality",
    "Person - Postal address - ZIP/Postal code",
    "Person - Postal address - Country",
    "Organization - Industry",
    "Organization - Number of employees",
    "Person - Person created",
)

# column label -> key of the row's formatted values
COLUMN_KEYS = {
    "Record ID": "source_id",
    "Contact ID": "source_id",
    "Person - ID": "source_id",
    "First Name": "first",
    "Person - First name": "first",
    "Last Name": "last",
    "Person - Last name": "last",
    "Person - Name": "full_name",
    "Email": "email",
    "Person - Email - Work": "email",
    "Person - Email - Home": "email_home",
    "Phone Number": "phone",
    "Phone": "phone",
    "Person - Phone - Work": "phone",
    "Mobile Phone Number": "mobile",
    "Mobile": "mobile",
    "Person - Phone - Mobile": "mobile",
    "Lifecycle Stage": "lifecycle",
    "Person - Label": "lifecycle",
    "Lead Status": "lead_status",
    "Contact owner": "owner",
    "Contact Owner": "owner",
    "Person - Owner": "owner",
    "Create Date": "created",
    "Created Date": "created",
    "Person - Person created": "created",
    "Associated Company": "assoc_company",
    "Company Name": "company",
    "Account Name": "company",
    "Person - Organization": "company",
    "Job Title": "title",
    "Title": "title",
    "Person - Job title": "title",
    "Industry": "industry",
    "Organization - Industry": "industry",
    "Number of Employees": "size",
    "Employees": "size",
    "Organization - Number of employees": "size",
    "Street Address": "street",
    "Mailing Street": "street",
    "Person - Postal address": "address_full",
    "City": "city",
    "Mailing City": "city",
    "Person - Postal address - City/town/village/locality": "city",
    "State/Region": "state",
    "Mailing State/Province": "state",
    "Postal Code": "postcode",
    "Mailing Zip/Postal Code": "postcode",
    "Person - Postal address - ZIP/Postal code": "postcode",
    "Country/Region": "country",
    "Mailing Country": "country",
    "Person - Postal address - Country": "country",
    "Marketing contact status": "marketing_status",
    "Person - Marketing status": "consent",
    "Unsubscribed from all email": "unsubscribed",
    "Email Opt Out": "opt_out",
    "Lead Source": "lead_source",
    "Notes": "notes",
}


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    country: str
    currency: str
    people: int
    id_prefix: str
    users: tuple  # (username, display name); the last one is the support desk
    files: tuple
    zone: str  # us_eastern | uk | de


TENANTS = (
    Tenant(
        "acme_us",
        "Acme Inc.",
        "US",
        "USD",
        760,
        "acu",
        (
            ("jane.rep", "Jane Reynolds"),
            ("tom.sales", "Tom Salazar"),
            ("priya.am", "Priya Amin"),
            ("sam.support", "Sam Porter"),
        ),
        (
            FileSpec(
                "acme_us/hubspot_contacts.csv", "hubspot", 0.72, "hubspot", "hubspot", HUBSPOT_FULL
            ),
            FileSpec(
                "acme_us/salesforce_contacts_report.csv",
                "salesforce",
                0.28,
                "sfid",
                "sf_us",
                SALESFORCE_US,
                newline="\r\n",
                quote_all=True,
                footer=True,
            ),
        ),
        "us_eastern",
    ),
    Tenant(
        "brit_gb",
        "Brit Ltd",
        "GB",
        "GBP",
        700,
        "brg",
        (
            ("oliver.rep", "Oliver Reed"),
            ("amelia.sales", "Amelia Sallis"),
            ("ellie.support", "Ellie Stone"),
        ),
        (
            FileSpec(
                "brit_gb/salesforce_contacts_report.csv",
                "salesforce",
                0.66,
                "sfid",
                "sf_uk",
                SALESFORCE_GB,
                newline="\r\n",
                quote_all=True,
                footer=True,
            ),
            FileSpec(
                "brit_gb/hubspot_contacts.csv", "hubspot", 0.34, "hubspot19", "hubspot", HUBSPOT_GB
            ),
        ),
        "uk",
    ),
    Tenant(
        "deutsch_de",
        "Deutsch GmbH",
        "DE",
        "EUR",
        660,
        "dde",
        (
            ("lukas.vertrieb", "Lukas Vogt"),
            ("anna.sales", "Anna Sauer"),
            ("jonas.support", "Jonas Sturm"),
        ),
        (
            FileSpec(
                "deutsch_de/pipedrive_people.csv",
                "pipedrive",
                0.68,
                "pipedrive",
                "pipedrive",
                PIPEDRIVE,
                delimiter=";",
                encoding="cp1252",
                newline="\r\n",
            ),
            FileSpec(
                "deutsch_de/hubspot_contacts.csv",
                "hubspot",
                0.32,
                "hubspot",
                "hubspot",
                HUBSPOT_DE,
                bom=True,
            ),
        ),
        "de",
    ),
)
TENANT_BY_ID = {t.tenant_id: t for t in TENANTS}

# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------


def rng_for(*parts) -> Random:
    """One independent stream per stage and tenant, so tuning one stage leaves the others alone."""
    return Random(":".join([str(SEED), *map(str, parts)]))


def pick(rng: Random, weighted: list[tuple]) -> object:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def ascii_fold(text: str) -> str:
    """Email-safe spelling of a name (Müller -> mueller), as people write their addresses."""
    for a, b in (
        ("ä", "ae"),
        ("ö", "oe"),
        ("ü", "ue"),
        ("Ä", "Ae"),
        ("Ö", "Oe"),
        ("Ü", "Ue"),
        ("ß", "ss"),
        ("ı", "i"),
    ):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c) and (c.isalnum() or c in ".-_"))


def encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def last_sunday(year: int, month: int) -> date:
    d = date(year, month + 1, 1) - DAY if month < 12 else date(year, 12, 31)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def nth_sunday(year: int, month: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(6 - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def utc_offset_hours(zone: str, t: datetime) -> int:
    """Civil UTC offset, computed from the DST rules so no tz database is needed."""
    y = t.year
    if zone == "us_eastern":
        start = datetime.combine(nth_sunday(y, 3, 2), datetime.min.time(), UTC) + timedelta(hours=7)
        end = datetime.combine(nth_sunday(y, 11, 1), datetime.min.time(), UTC) + timedelta(hours=6)
        return -4 if start <= t < end else -5
    start = datetime.combine(last_sunday(y, 3), datetime.min.time(), UTC) + timedelta(hours=1)
    end = datetime.combine(last_sunday(y, 10), datetime.min.time(), UTC) + timedelta(hours=1)
    base = 0 if zone == "uk" else 1
    return base + 1 if start <= t < end else base


def iso_with_zone(t: datetime, style: str, zone: str) -> str:
    """ISO 8601 text with a zone: `Z`, `+00:00`, the local civil offset, or UTC with millis."""
    if style == "z":
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "ms":
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    if style == "utc_offset":
        return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    hours = utc_offset_hours(zone, t)
    local = t + timedelta(hours=hours)
    sign = "+" if hours >= 0 else "-"
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{abs(hours):02d}:00"


# ----------------------------------------------------------------------------------------------
# Phones: stored as (country, area, local digits); written in many styles
# ----------------------------------------------------------------------------------------------

Phone = tuple  # (country code "US"/"GB"/"DE", area, local)
CALLING_CODE = {"US": "1", "GB": "44", "DE": "49"}
PHONE_STYLES = {
    "US": [
        ("paren", 30),
        ("dash", 25),
        ("dot", 6),
        ("intl", 12),
        ("intl_dash", 6),
        ("one_paren", 4),
        ("digits", 8),
        ("e164", 7),
        ("ext", 2),
    ],
    "GB": [
        ("national", 40),
        ("national_compact", 10),
        ("intl", 20),
        ("intl_zero", 8),
        ("double_zero", 8),
        ("paren", 6),
        ("e164", 8),
    ],
    "DE": [
        ("national", 30),
        ("slash", 15),
        ("dash", 6),
        ("intl", 20),
        ("intl_zero", 10),
        ("double_zero", 8),
        ("paren", 4),
        ("e164", 7),
    ],
}


def group_local(country: str, area: str, local: str) -> str:
    if country == "US":
        return f"{local[:3]}-{local[3:]}"
    if country == "GB":
        if len(area) == 2:
            return f"{local[:4]} {local[4:]}"
        if len(area) == 3:
            return f"{local[:3]} {local[3:]}"
        return local  # mobiles: 07911 123456
    return local


def format_phone(phone: Phone, style: str, tenant_country: str) -> str:
    country, area, local = phone
    if country != tenant_country and style not in ("intl", "e164", "double_zero"):
        style = "intl"  # a foreign number is always written with its country code
    cc = CALLING_CODE[country]
    if country == "US":
        lo = group_local(country, area, local)
        return {
            "paren": f"({area}) {lo}",
            "dash": f"{area}-{lo}",
            "dot": f"{area}.{local[:3]}.{local[3:]}",
            "intl": f"+1 {area} {local[:3]} {local[3:]}",
            "intl_dash": f"+1-{area}-{lo}",
            "one_paren": f"1 ({area}) {lo}",
            "digits": f"{area}{local}",
            "e164": f"+1{area}{local}",
            "ext": f"{area}-{lo} x{int(local[-2:]) + 10}",
            "double_zero": f"001 {area} {lo}",
        }.get(style, f"({area}) {lo}")
    lo = group_local(country, area, local)
    return {
        "national": f"0{area} {lo}",
        "national_compact": f"0{area}{local}",
        "intl": f"+{cc} {area} {lo}",
        "intl_zero": f"+{cc} (0){area} {lo}",
        "double_zero": f"00{cc} {area} {lo}",
        "paren": f"(0{area}) {lo}",
        "e164": f"+{cc}{area}{local}",
        "slash": f"0{area}/{local}",
        "dash": f"0{area}-{local[:-3]}-{local[-3:]}" if len(local) > 4 else f"0{area}-{local}",
    }.get(style, f"0{area} {lo}")


class PhoneBook:
    """Hands out distinct numbers per tenant from the fictional/drama ranges where they exist."""

    def __init__(self, rng: Random):
        self.rng = rng
        self.used: set = set()

    def _draw(self, country: str, areas: tuple) -> Phone:
        for _ in range(200):
            area, prefix, digits = self.rng.choice(areas)
            if country == "US":
                local = prefix + f"{self.rng.randrange(100):02d}"
            else:
                first = str(self.rng.randint(2, 9)) if not prefix else ""
                local = (
                    prefix
                    + first
                    + "".join(str(self.rng.randrange(10)) for _ in range(digits - len(first)))
                )
            phone = (country, area, local)
            if phone not in self.used:
                self.used.add(phone)
                return phone
        raise RuntimeError(f"phone range exhausted for {areas}")

    def landline(self, country: str, city: City) -> Phone:
        return self._draw(country, city.areas)

    def mobile(self, country: str, city: City) -> Phone:
        if country == "US":
            return self._draw(country, city.areas)
        for _ in range(200):
            if country == "GB":
                area = self.rng.choice(MOBILE_AREAS["GB"]) + str(self.rng.randrange(10))
                local = "".join(str(self.rng.randrange(10)) for _ in range(6))
            else:
                area = self.rng.choice(MOBILE_AREAS["DE"])
                local = str(self.rng.randint(1, 9)) + "".join(
                    str(self.rng.randrange(10)) for _ in range(7)
                )
            phone = (country, area, local)
            if phone not in self.used:
                self.used.add(phone)
                return phone
        raise RuntimeError("mobile range exhausted")


# ----------------------------------------------------------------------------------------------
# People and companies
# ----------------------------------------------------------------------------------------------


@dataclass
class Company:
    base: str
    suffix: str
    domain: str
    size: int
    size_style: str  # int | comma | range | blank (how a HubSpot user typed it)
    industry: str
    city: City
    street: str
    postcode: str
    main_phone: Phone
    email_pattern: str

    @property
    def name(self) -> str:
        return f"{self.base} {self.suffix}".strip() if self.suffix else self.base


@dataclass
class Person:
    pid: str
    tenant: str
    first: str
    last: str
    email: str  # canonical (lower-case, valid) or ""
    phone: Phone | None
    mobile: Phone | None
    company: Company | None
    title: str
    city: City
    country: str
    street: str
    postcode: str
    created: datetime
    owner: int  # index into the tenant's users
    lifecycle: str
    consent: str  # subscribed | unsubscribed | no_consent | ""
    lead_source: str
    customer: bool = False
    profile: str = ""
    shares_phone: bool = False
    trap: str = ""  # why the person exists (common_name, cjk_name, cross_tenant_twin, ...)
    twin: str = ""  # "tenant:pid" of the same person in another tenant
    rows: list = field(default_factory=list)


def size_range(size: int) -> str:
    for low, high, label in (
        (1, 9, "1-9"),
        (10, 49, "10-49"),
        (50, 99, "50-99"),
        (100, 499, "100-499"),
        (500, 999, "500-999"),
        (1000, 4999, "1000-4999"),
    ):
        if low <= size <= high:
            return label
    return "5000+"


def draw_company_size(rng: Random) -> int:
    low, high = pick(
        rng,
        [
            ((1, 9), 22),
            ((10, 49), 28),
            ((50, 99), 15),
            ((100, 499), 18),
            ((500, 999), 7),
            ((1000, 4999), 6),
            ((5000, 60000), 4),
        ],
    )
    size = rng.randint(low, high)
    if size >= 100:
        size = round(size, -1 if size < 1000 else -2)  # big companies report round numbers
    return max(size, 1)


def postcode_for(rng: Random, country: str, city: City) -> str:
    outward = rng.choice(city.postcodes)
    if country != "GB":
        return outward
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{outward} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def street_for(rng: Random, country: str) -> str:
    name = rng.choice(STREETS[country])
    return f"{name} {rng.randint(1, 180)}" if country == "DE" else f"{rng.randint(1, 2400)} {name}"


def make_companies(rng: Random, tenant: Tenant, book: PhoneBook, count: int) -> list[Company]:
    country = tenant.country
    companies, domains = [], set()
    while len(companies) < count:
        if country == "DE" and rng.random() < 0.6:
            base = f"{rng.choice(LAST_NAMES['DE'])} {rng.choice(DE_COMPANY_SECTORS)}"
        else:
            base = f"{rng.choice(COMPANY_WORDS_A)} {rng.choice(COMPANY_WORDS_B)}"
        domain = ascii_fold(base.lower().replace(" ", "")) + TLD[country]
        if domain in domains:
            continue
        domains.add(domain)
        city = rng.choice(CITIES[country])
        companies.append(
            Company(
                base=base,
                suffix=rng.choice(SUFFIXES[country]),
                domain=domain,
                size=draw_company_size(rng),
                size_style=pick(rng, [("int", 70), ("comma", 10), ("range", 15), ("blank", 5)]),
                industry=rng.choice(INDUSTRY_KEYS),
                city=city,
                street=street_for(rng, country),
                postcode=postcode_for(rng, country, city),
                main_phone=book.landline(country, city),
                email_pattern=pick(
                    rng,
                    [
                        ("first.last", 50),
                        ("flast", 20),
                        ("first", 8),
                        ("first_last", 10),
                        ("firstl", 12),
                    ],
                ),
            )
        )
    return companies


def work_local(pattern: str, first: str, last: str) -> str:
    f, ln = ascii_fold(first).lower(), ascii_fold(last).lower().replace("'", "").replace("-", "")
    return {
        "first.last": f"{f}.{ln}",
        "flast": f"{f[:1]}{ln}",
        "first": f,
        "first_last": f"{f}_{ln}",
        "firstl": f"{f}{ln[:1]}",
    }[pattern]


def personal_email(rng: Random, country: str, first: str, last: str) -> str:
    f, ln = ascii_fold(first).lower(), ascii_fold(last).lower().replace("'", "")
    local = pick(
        rng,
        [
            (f"{f}.{ln}", 40),
            (f"{f}{ln}{rng.randint(1, 99)}", 30),
            (f"{f[:1]}{ln}{rng.randint(60, 99)}", 20),
            (f"{ln}.{f}", 10),
        ],
    )
    return f"{local}@{rng.choice(PERSONAL_DOMAINS[country])}"


class EmailBook:
    """Keeps emails distinct within a tenant (two people never share one unless a trap says so)."""

    def __init__(self):
        self.used: set = set()

    def claim(self, email: str) -> str:
        local, domain = email.split("@")
        candidate, n = email, 1
        while candidate in self.used:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self.used.add(candidate)
        return candidate


LIFECYCLE_NONCUSTOMER = [
    ("subscriber", 14),
    ("lead", 44),
    ("mql", 18),
    ("sql", 10),
    ("opportunity", 8),
    ("other", 3),
    ("", 3),
]
LEAD_SOURCES = [
    ("Web", 35),
    ("Phone Inquiry", 10),
    ("Partner Referral", 12),
    ("Trade Show", 10),
    ("Word of mouth", 8),
    ("Advertisement", 8),
    ("Purchased List", 5),
    ("Other", 4),
    ("", 8),
]


def random_created(rng: Random) -> datetime:
    """Record creation time: most records are years old, some arrived in the last weeks."""
    start = datetime(2019, 1, 1, tzinfo=UTC)
    if rng.random() < 0.06:
        start = AS_OF_DT - timedelta(days=20)
    span = (AS_OF_DT - timedelta(hours=1) - start).total_seconds()
    t = start + timedelta(seconds=rng.random() * span)
    return t.replace(second=0, microsecond=0)


def make_people(tenant: Tenant) -> list[Person]:
    rng = rng_for("people", tenant.tenant_id)
    book = PhoneBook(rng_for("phones", tenant.tenant_id))
    emails = EmailBook()
    country = tenant.country
    companies = make_companies(rng, tenant, book, 170)
    # the busiest companies carry the size spellings every importer must read
    sizes = (250, 1000, 300, 8000, 1200)
    styles = ("int", "comma", "range", "range", "comma")
    for company, size, style in zip(companies, sizes, styles, strict=False):
        company.size, company.size_style = size, style
    # a few companies employ many contacts (Zipf-like), most employ one or two
    company_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(companies))]
    lang = "de" if country == "DE" else "en"
    people = []
    for i in range(tenant.people):
        roll = rng.random()
        first = (
            rng.choice(ACCENTED_FIRST[country])
            if roll < 0.025
            else rng.choice(FIRST_NAMES[country])
        )
        last = (
            rng.choice(PARTICLE_LAST[country])
            if rng.random() < 0.012
            else rng.choice(LAST_NAMES[country])
        )
        company = rng.choices(companies, company_weights)[0] if rng.random() < 0.88 else None
        city = company.city if company and rng.random() < 0.8 else rng.choice(CITIES[country])
        email_kind = (
            pick(rng, [("work", 78), ("personal", 19), ("none", 3)])
            if company
            else pick(rng, [("personal", 95), ("none", 5)])
        )
        email = ""
        if email_kind == "work":
            email = emails.claim(
                f"{work_local(company.email_pattern, first, last)}@{company.domain}"
            )
        elif email_kind == "personal":
            email = emails.claim(personal_email(rng, country, first, last))
        phone = book.landline(country, city) if rng.random() < 0.72 else None
        mobile = book.mobile(country, city) if rng.random() < 0.3 else None
        customer = rng.random() < 0.30
        people.append(
            Person(
                pid=f"{tenant.id_prefix.upper()}-P{i + 1:04d}",
                tenant=tenant.tenant_id,
                first=first,
                last=last,
                email=email,
                phone=phone,
                mobile=mobile,
                company=company,
                title=rng.choice(TITLES[lang]) if rng.random() < 0.85 else "",
                city=city,
                country=country,
                street=street_for(rng, country),
                postcode=postcode_for(rng, country, city),
                created=random_created(rng),
                owner=rng.randrange(len(tenant.users) - 1),
                lifecycle=pick(rng, [("customer", 85), ("opportunity", 10), ("evangelist", 5)])
                if customer
                else pick(rng, LIFECYCLE_NONCUSTOMER),
                consent=pick(
                    rng, [("subscribed", 62), ("unsubscribed", 14), ("no_consent", 14), ("", 10)]
                ),
                lead_source=pick(rng, LEAD_SOURCES),
                customer=customer,
            )
        )
    add_shared_main_lines(rng, people)
    add_common_name_trap(rng, tenant, people, emails, book)
    if tenant.tenant_id == "acme_us":
        cjk = next(
            p for p in people[rng.randrange(len(people)) :] + people if not p.trap and p.email
        )
        cjk.first, cjk.last, cjk.trap = "秀英", "王", "cjk_name"
        cjk.email = emails.claim(f"xiuying.wang@{cjk.email.split('@')[1]}")
    assign_profiles(rng, people)
    return people


def add_shared_main_lines(rng: Random, people: list[Person]) -> None:
    """Colleagues reached through their company's switchboard: same phone, different people."""
    by_company: dict[str, list[Person]] = {}
    for p in people:
        if p.company:
            by_company.setdefault(p.company.domain, []).append(p)
    crowded = [staff for staff in by_company.values() if len(staff) >= 3]
    for staff in rng.sample(crowded, min(5, len(crowded))):
        for p in staff[:4]:
            p.phone, p.shares_phone = p.company.main_phone, True
            p.trap = p.trap or "shared_main_line"


def add_common_name_trap(
    rng: Random, tenant: Tenant, people: list[Person], emails: EmailBook, book: PhoneBook
) -> None:
    """Several different people with one very common name, at different companies."""
    first, last, count = {
        "US": ("Michael", "Smith", 4),
        "GB": ("David", "Jones", 3),
        "DE": ("Thomas", "Müller", 3),
    }[tenant.country]
    chosen, seen_companies = [], set()
    for p in people:
        if p.company and p.company.domain not in seen_companies and not p.shares_phone and p.email:
            chosen.append(p)
            seen_companies.add(p.company.domain)
        if len(chosen) == count:
            break
    for p in chosen:
        p.first, p.last, p.trap = first, last, "common_name"
        p.email = emails.claim(
            f"{work_local(p.company.email_pattern, first, last)}@{p.company.domain}"
        )
        p.phone = p.phone or book.landline(tenant.country, p.city)


PROFILES_NONCUSTOMER = [("none", 6), ("dormant", 14), ("lapsed", 22), ("steady", 47), ("hot", 11)]


def assign_profiles(rng: Random, people: list[Person]) -> None:
    for p in people:
        if p.customer:
            p.profile = "decliner" if rng.random() < 0.09 else "customer"
        else:
            p.profile = pick(rng, PROFILES_NONCUSTOMER)
            if p.profile == "dormant" and p.created > AS_OF_DT - timedelta(days=150):
                p.profile = "hot"  # a record created last month cannot have gone quiet for months
            if p.created > AS_OF_DT - timedelta(days=14) and p.profile in ("none", "lapsed"):
                p.profile = "steady"


def add_cross_tenant_twins(
    people_by_tenant: dict[str, list[Person]],
) -> list[tuple[Person, Person]]:
    """The same human (same email) known to two tenants: must stay two contacts, one per tenant."""
    rng = rng_for("twins")
    pairs = []
    for src_id, dst_id, count in (("acme_us", "brit_gb", 4), ("brit_gb", "deutsch_de", 3)):
        src_pool = [
            p
            for p in people_by_tenant[src_id]
            if p.email and not p.trap and p.profile not in ("none",)
        ]
        dst_pool = [
            p for p in people_by_tenant[dst_id] if not p.trap and p.profile not in ("none",)
        ]
        dst_emails = {p.email for p in people_by_tenant[dst_id]}
        pool = zip(rng.sample(src_pool, count * 3), rng.sample(dst_pool, count * 3), strict=True)
        for src, dst in pool:
            if src.email in dst_emails or src.twin:
                continue
            for attr in (
                "first",
                "last",
                "email",
                "phone",
                "mobile",
                "company",
                "title",
                "city",
                "country",
                "street",
                "postcode",
            ):
                setattr(dst, attr, getattr(src, attr))
            dst.trap = src.trap = "cross_tenant_twin"
            dst.twin, src.twin = f"{src_id}:{src.pid}", f"{dst_id}:{dst.pid}"
            dst_emails.add(src.email)
            pairs.append((src, dst))
            if sum(1 for a, _ in pairs if a.tenant == src_id) == count:
                break
    return pairs


# ----------------------------------------------------------------------------------------------
# Contact rows: one record per person in a home file, plus duplicates and special rows
# ----------------------------------------------------------------------------------------------


@dataclass
class Row:
    spec: FileSpec
    person: Person | None
    role: str  # original | duplicate | special
    variation: str
    created: datetime
    first: str = ""
    last: str = ""
    email: str = ""
    email_home: str = ""
    phone: str = ""
    mobile: str = ""
    company: str = ""
    assoc_company: str = ""
    title: str = ""
    street: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)  # overrides of formatted values
    expected: str = ""  # quarantine reason code, when the row must be quarantined
    ragged: bool = False
    email_matches: bool = False  # the row's email normalizes to the person's email
    phones_written: tuple = ()  # Phone tuples the row carries in a readable form
    source_id: str = ""
    row_number: int = 0


DUPLICATE_KINDS = [
    ("email_case", 18),
    ("email_plus", 8),
    ("phone_format", 14),
    ("nickname", 12),
    ("typo", 10),
    ("swapped", 7),
    ("company_variant", 10),
    ("fuzzy_only", 9),
    ("exact", 6),
    ("all_caps", 6),
]


def mangle_case(rng: Random, email: str) -> str:
    local, domain = email.split("@")
    style = rng.choice(["title", "upper", "domain"])
    if style == "upper":
        return email.upper()
    if style == "domain":
        return f"{local}@{domain.capitalize()}"
    return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()


def typo(rng: Random, name: str) -> str:
    """One-letter slip: dropped, doubled, swapped or wrong letter (never the first letter)."""
    if len(name) < 4:
        return name + name[-1]
    i = rng.randrange(1, len(name) - 1)
    op = rng.choice(["drop", "double", "swap", "replace"])
    if op == "drop":
        out = name[:i] + name[i + 1 :]
    elif op == "double":
        out = name[:i] + name[i] + name[i:]
    elif op == "swap":
        out = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    else:
        out = name[:i] + rng.choice("aeiourstnl") + name[i + 1 :]
    return out if out != name else name[:i] + name[i + 1 :]


def company_variant(rng: Random, company: Company) -> str:
    variant = company.base + rng.choice(SUFFIX_VARIANTS.get(company.suffix, [""]))
    return variant.upper() if rng.random() < 0.3 else variant


def phone_style(rng: Random, tenant: Tenant, avoid: str = "") -> str:
    styles = [(s, w) for s, w in PHONE_STYLES[tenant.country] if s != avoid]
    return pick(rng, styles)


def base_row(rng: Random, tenant: Tenant, person: Person, spec: FileSpec) -> Row:
    row = Row(
        spec,
        person,
        "original",
        "",
        person.created,
        first=person.first,
        last=person.last,
        email=person.email,
        title=person.title,
        street=person.street,
    )
    row.email_matches = bool(person.email)
    if person.company:
        row.company = person.company.name
        row.assoc_company = person.company.name if rng.random() < 0.9 else ""
    phones = []
    has_mobile_column = any("Mobile" in c for c in spec.columns)
    if person.phone:
        row.phone = format_phone(person.phone, phone_style(rng, tenant), tenant.country)
        phones.append(person.phone)
    if person.mobile and has_mobile_column:
        row.mobile = format_phone(person.mobile, phone_style(rng, tenant), tenant.country)
        phones.append(person.mobile)
    elif person.mobile and not row.phone:
        row.phone = format_phone(person.mobile, phone_style(rng, tenant), tenant.country)
        phones.append(person.mobile)  # files without a mobile column carry the mobile as the phone
    row.phones_written = tuple(phones)
    return row


def duplicate_fits(p: Person, kind: str) -> bool:
    has_phone = bool(p.phone or p.mobile) and not p.shares_phone
    return {
        "email_case": bool(p.email),
        "email_plus": bool(p.email) and has_phone,
        "phone_format": has_phone,
        "nickname": p.first in NICKNAMES and bool(p.email),
        "typo": has_phone,
        "swapped": bool(p.email),
        "company_variant": bool(p.company and p.email),
        "fuzzy_only": bool(p.company),
        "exact": True,
        "all_caps": bool(p.email),
    }[kind]


def make_duplicate(
    rng: Random, tenant: Tenant, person: Person, spec: FileSpec, kind: str, emails: EmailBook
) -> Row:
    row = base_row(rng, tenant, person, spec)
    row.role, row.variation = "duplicate", kind
    row.created = person.created + timedelta(days=rng.randint(3, 700), minutes=rng.randint(0, 600))
    if row.created >= AS_OF_DT:
        row.created = AS_OF_DT - timedelta(hours=rng.randint(2, 300))
    has_phone = bool(person.phone or person.mobile) and not person.shares_phone
    if kind == "email_case" and person.email:
        row.email = mangle_case(rng, person.email)
        if rng.random() < 0.3:
            row.email = f"  {row.email} "
    elif kind == "email_plus" and person.email and has_phone:
        local, domain = person.email.split("@")
        row.email = f"{local}+{rng.choice(['crm', 'news', 'webinar', 'events'])}@{domain}"
        row.email_matches = False
    elif kind == "phone_format" and has_phone:
        row.email = (
            emails.claim(personal_email(rng, tenant.country, person.first, person.last))
            if rng.random() < 0.6
            else ""
        )
        row.email_matches = False
        if person.phone:
            row.phone = format_phone(person.phone, phone_style(rng, tenant), tenant.country)
    elif kind == "nickname" and person.first in NICKNAMES and person.email:
        row.first = NICKNAMES[person.first]
    elif kind == "typo" and has_phone:
        if rng.random() < 0.7:
            row.last = typo(rng, person.last)
        else:
            row.first = typo(rng, person.first)
        row.email, row.email_matches = "", False
    elif kind == "swapped" and person.email:
        row.first, row.last = person.last, person.first
    elif kind == "company_variant" and person.company and person.email:
        row.company = company_variant(rng, person.company)
        row.assoc_company = person.company.name
        row.phone, row.mobile, row.phones_written = "", "", ()
    elif kind == "fuzzy_only" and person.company:
        row.first = NICKNAMES.get(person.first) or typo(rng, person.first)
        row.email = (
            emails.claim(personal_email(rng, tenant.country, row.first, person.last))
            if rng.random() < 0.5
            else ""
        )
        row.email_matches = False
        row.phone, row.mobile, row.phones_written = "", "", ()
        row.company = company_variant(rng, person.company)
        row.assoc_company = ""
    elif kind == "exact":
        row.variation = "exact"
    elif kind == "all_caps" and person.email:
        row.first, row.last = person.first.upper(), person.last.upper()
    else:
        row.email = mangle_case(rng, person.email) if person.email else row.email
        row.variation = "email_case" if person.email else "exact"
    if not encodable(" ".join([row.first, row.last, row.company, row.email]), spec.encoding):
        return None
    return row


def apply_messy_values(rng: Random, row: Row) -> None:
    """Everyday mess on original rows: shouting, lower case, stray spaces."""
    roll = rng.random()
    if roll < 0.03:
        row.first, row.last = row.first.upper(), row.last.upper()
        row.variation = "all_caps"
    elif roll < 0.06:
        row.first, row.last = row.first.lower(), row.last.lower()
        row.variation = "all_lower"
    elif roll < 0.10:
        row.first, row.last = f" {row.first}", f"{row.last}  "
        row.variation = "whitespace"
    elif roll < 0.12 and row.email:
        row.email = f" {row.email}\t"
        row.variation = "email_whitespace"


def make_rows(tenant: Tenant, people: list[Person]) -> list[Row]:
    rng = rng_for("rows", tenant.tenant_id)
    emails = EmailBook()
    emails.used = {p.email for p in people if p.email}
    specs = tenant.files
    rows = []
    for person in people:
        spec = rng.choices(specs, [s.share for s in specs])[0]
        if person.trap == "cjk_name":
            spec = specs[0]
        if not encodable(
            f"{person.first} {person.last} {person.company.name if person.company else ''}",
            spec.encoding,
        ):
            spec = next(s for s in specs if encodable(person.first + person.last, s.encoding))
        row = base_row(rng, tenant, person, spec)
        if person.trap not in ("cjk_name", "common_name", "cross_tenant_twin"):
            apply_messy_values(rng, row)
        row.variation = row.variation or "clean"
        person.rows.append(row)
        rows.append(row)
    # duplicates: about 15% of all rows; the kind first, then someone it fits
    wanted = round(len(people) * 0.176)
    candidates = [p for p in people if p.trap not in ("cjk_name", "common_name")]
    namesake = next(p for p in people if p.trap == "common_name")
    planned = [
        ("email_case", namesake)
    ]  # the one true duplicate among the namesakes shares the email
    while len(planned) < wanted:
        kind = pick(rng, DUPLICATE_KINDS)
        fits = [
            p
            for p in candidates
            if len(p.rows) + sum(1 for _, q in planned if q is p) < 3 and duplicate_fits(p, kind)
        ]
        planned.append((kind, rng.choice(fits)))
    for kind, person in planned:
        home = person.rows[0].spec
        other = [s for s in specs if s is not home]
        spec = rng.choice(other) if rng.random() < 0.55 else home
        row = make_duplicate(rng, tenant, person, spec, kind, emails) or make_duplicate(
            rng, tenant, person, home, kind, emails
        )
        person.rows.append(row)
        rows.append(row)
    rows.extend(special_rows(rng, tenant, people))
    return rows


def special_rows(rng: Random, tenant: Tenant, people: list[Person]) -> list[Row]:
    """Rows planted for one trap each; the README lists them."""
    specs = {s.path.split("/")[1]: s for s in tenant.files}
    out: list[Row] = []

    def person_row(pick_from, file_key, variation):
        person = pick_from.pop(0)
        row = person.rows[0] if person.rows[0].spec is specs[file_key] else None
        if row is None:
            row = base_row(rng, tenant, person, specs[file_key])
            row.role, row.created = "duplicate", person.created + timedelta(days=30)
            person.rows.append(row)
            out.append(row)
        row.variation = variation
        return row

    def no_identity(file_key, variation, first=""):
        company = rng.choice([p.company for p in people if p.company])
        row = Row(
            specs[file_key],
            None,
            "special",
            variation,
            random_created(rng),
            first=first,
            company=company.name,
            title=rng.choice(TITLES["de" if tenant.country == "DE" else "en"]),
            expected="missing_identity",
        )
        out.append(row)
        return row

    plain = [
        p
        for p in people
        if not p.trap
        and len(p.rows) == 1
        and p.email
        and p.phone
        and p.first.isascii()
        and p.last.isascii()
        and p.company
    ]
    rng.shuffle(plain)
    if tenant.tenant_id == "acme_us":
        hs, sf = "hubspot_contacts.csv", "salesforce_contacts_report.csv"
        plain = [p for p in plain if p.rows[0].spec is specs[hs]]
        r = person_row(plain, hs, "invalid_email_no_domain")
        r.email, r.email_matches = r.email.strip().split("@")[0] + "@", False
        r = person_row(plain, hs, "invalid_email_at_word")
        r.email, r.email_matches = (
            f"{r.first.strip().lower()} at {r.email.strip().split('@')[1]}",
            False,
        )
        r = person_row(plain, hs, "invalid_email_double_at")
        r.email, r.email_matches = r.email.replace("@", "@@"), False
        r = person_row(plain, hs, "phone_not_a_number")
        r.phone, r.phones_written = "n/a", ()
        r = person_row(plain, hs, "phone_too_short")
        r.phone, r.phones_written = "123", ()
        r = person_row(plain, hs, "formula_company")
        r.company, r.assoc_company = '=HYPERLINK("http://x","y")', ""
        r = person_row(plain, hs, "sql_in_notes")
        r.notes = "Robert'); DROP TABLE contacts;-- asked for a call back"
        r = person_row(plain, hs, "embedded_newline_and_comma")
        r.street = f"{r.street}, Suite 400\nAttn: Accounts Payable"
        r = person_row(plain, hs, "zip_plus_four")
        r.extra["postcode"] = "02134-1203"
        r.extra["city"], r.extra["state"] = "Boston", "MA"
        no_identity(hs, "missing_identity_company_only")
        no_identity(hs, "missing_identity_whitespace_name", first="   ")
        r = no_identity(sf, "ragged_row_unquoted_comma")
        r.first, r.last, r.email = "Laura", "Becker", "laura.becker@stonebridgefreight.com"
        r.company, r.street, r.phone = "Stonebridge Freight LLC", "88 Summer St", "(617) 555-0199"
        r.extra.update(city="Boston", state="MA", postcode="02110", lead_source="Trade Show")
        r.expected, r.ragged = "unparseable_row", True
        r.title = "VP Sales, Operations"
    elif tenant.tenant_id == "brit_gb":
        sf, hs = "salesforce_contacts_report.csv", "hubspot_contacts.csv"
        plain = [p for p in plain if p.rows[0].spec is specs[sf]]
        r = person_row(plain, sf, "formula_title")
        r.title = "+cmd|' /C calc'!A0"
        r = person_row(plain, sf, "mobile_not_a_number")
        r.mobile = "n/a"
        r.phones_written = tuple(ph for ph in r.phones_written if ph != r.person.mobile)
        r = person_row(plain, sf, "phone_double_zero_prefix")
        person = r.person
        r.phone = format_phone(person.phone, "double_zero", "GB")
        r = person_row(plain, sf, "invalid_email_at_word")
        r.email, r.email_matches = (
            f"{r.first.strip().lower()} at {r.email.strip().split('@')[1]}",
            False,
        )
        r = person_row(plain, sf, "postcode_lower_no_space")
        r.extra["postcode"] = r.person.postcode.replace(" ", "").lower()
        no_identity(sf, "missing_identity_company_only")
    else:
        pd, hs = "pipedrive_people.csv", "hubspot_contacts.csv"
        plain_pd = [p for p in plain if p.rows[0].spec is specs[pd]]
        plain_hs = [p for p in plain if p.rows[0].spec is specs[hs]]
        r = person_row(plain_pd, pd, "embedded_delimiter_and_newline")
        r.extra["address_full"] = (
            f"c/o Weiß & Partner; 3. OG\n{r.person.street}, {r.person.postcode} "
            f"{r.person.city.name}"
        )
        r = person_row(plain_pd, pd, "formula_organization")
        r.company = "@SUM(1+1)*cmd|' /C calc'!A0"
        r = person_row(plain_pd, pd, "phone_not_a_number")
        r.phone, r.phones_written = "keine Angabe", ()
        r = person_row(plain_pd, pd, "euro_sign_cp1252")
        r.title = "Einkauf (Budget > 50.000 €)"
        no_identity(pd, "missing_identity_company_only")
        r = person_row(plain_hs, hs, "invalid_email_no_domain")
        r.email, r.email_matches = r.email.strip().split("@")[0] + "@", False
        r = person_row(plain_hs, hs, "phone_too_short")
        r.phone, r.phones_written = "123", ()
    return out


def assign_ids(tenant: Tenant, rows: list[Row]) -> None:
    """Records sorted by creation, ids rising with creation time, as CRMs hand them out."""
    rng = rng_for("ids", tenant.tenant_id)
    for spec in tenant.files:
        mine = sorted(
            (r for r in rows if r.spec is spec),
            key=lambda r: (r.created, r.person.pid if r.person else ""),
        )
        if spec.id_style == "pipedrive":
            n = 1000
        elif spec.id_style == "hubspot19":
            n = 4876876000000100000
        else:
            n = 51000000 if tenant.tenant_id == "acme_us" else 78000000
        for r in mine:
            n += rng.randint(1, 40) if spec.id_style != "hubspot19" else rng.randint(1, 900000)
            if spec.id_style == "sfid":  # 15-character id plus the 3-character case-safe suffix
                alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                body = "".join(rng.choice(alphabet) for _ in range(5))
                suffix = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345") for _ in range(3))
                r.source_id = f"0035g00000{body}{suffix}"
            else:
                r.source_id = str(n)
        if spec.vendor == "salesforce":
            mine.sort(key=lambda r: (r.last.strip().lower(), r.first.strip().lower(), r.source_id))
        for i, r in enumerate(mine, start=1):
            r.row_number = i


# ----------------------------------------------------------------------------------------------
# Writing contact files
# ----------------------------------------------------------------------------------------------

HUBSPOT_LIFECYCLE = {
    "subscriber": "Subscriber",
    "lead": "Lead",
    "mql": "Marketing Qualified Lead",
    "sql": "Sales Qualified Lead",
    "opportunity": "Opportunity",
    "customer": "Customer",
    "evangelist": "Evangelist",
    "other": "Other",
    "": "",
}
PIPEDRIVE_LABEL = {
    "subscriber": "Cold lead",
    "lead": "Warm lead",
    "mql": "Warm lead",
    "sql": "Hot lead",
    "opportunity": "Hot lead",
    "customer": "Customer",
    "evangelist": "Customer",
    "other": "",
    "": "",
}
LEAD_STATUS = [
    ("New", 25),
    ("Open", 20),
    ("In Progress", 15),
    ("Attempted to Contact", 12),
    ("Connected", 10),
    ("Open Deal", 6),
    ("Unqualified", 6),
    ("Bad Timing", 6),
]
COUNTRY_LABELS = {
    "US": [
        ("United States", 60),
        ("USA", 15),
        ("US", 10),
        ("United States of America", 5),
        ("", 10),
    ],
    "GB": [("United Kingdom", 60), ("UK", 15), ("GB", 5), ("England", 10), ("", 10)],
    "DE": [("Germany", 55), ("Deutschland", 30), ("DE", 5), ("", 10)],
}
PIPEDRIVE_CONSENT = {
    "subscribed": "Subscribed",
    "unsubscribed": "Unsubscribed",
    "no_consent": "No consent",
    "": "",
}


def format_created(t: datetime, style: str, zone: str) -> str:
    local = t + timedelta(hours=utc_offset_hours(zone, t))
    if style == "hubspot":
        return local.strftime("%Y-%m-%d %H:%M")
    if style == "pipedrive":
        return local.strftime("%Y-%m-%d %H:%M:%S")
    if style == "sf_us":
        return f"{local.month}/{local.day}/{local.year}"
    return local.strftime("%d/%m/%Y")


def format_size(company: Company | None, vendor: str) -> str:
    if company is None:
        return ""
    if vendor == "pipedrive":
        return size_range(company.size)
    if vendor == "salesforce":
        return f"{company.size:,}"
    return {
        "int": str(company.size),
        "comma": f"{company.size:,}",
        "range": size_range(company.size),
        "blank": "",
    }[company.size_style]


def formatted_values(rng: Random, tenant: Tenant, row: Row) -> dict[str, str]:
    spec, p = row.spec, row.person
    v = {
        "source_id": row.source_id,
        "first": row.first,
        "last": row.last,
        "email": row.email,
        "email_home": row.email_home,
        "phone": row.phone,
        "mobile": row.mobile,
        "company": row.company,
        "assoc_company": row.assoc_company,
        "title": row.title,
        "street": row.street,
        "notes": row.notes,
        "created": format_created(row.created, spec.date_style, tenant.zone),
    }
    v["full_name"] = " ".join(x for x in (row.first, row.last) if x)
    if p is None:
        v["owner"] = tenant.users[rng.randrange(len(tenant.users) - 1)][1]
        v["country"] = pick(rng, COUNTRY_LABELS[tenant.country])
        v.update(row.extra)
        return v
    company = p.company
    v["owner"] = tenant.users[p.owner][1]
    v["industry"] = (
        INDUSTRIES[company.industry][{"hubspot": 0, "salesforce": 1, "pipedrive": 2}[spec.vendor]]
        if company
        else ""
    )
    v["size"] = format_size(company, spec.vendor)
    v["city"] = p.city.name
    v["state"] = (
        (p.city.state if rng.random() < 0.7 else p.city.state_full)
        if p.country == "US"
        else (p.city.state_full if p.country == "GB" and rng.random() < 0.3 else "")
    )
    v["postcode"] = p.postcode
    v["country"] = pick(rng, COUNTRY_LABELS[p.country])
    v["address_full"] = (
        f"{p.street}, {p.postcode} {p.city.name}, {v['country'] or 'Deutschland'}"
        if p.country == "DE"
        else ""
    )
    if spec.vendor == "pipedrive":
        v["lifecycle"] = PIPEDRIVE_LABEL[p.lifecycle]
        v["consent"] = PIPEDRIVE_CONSENT[p.consent]
        domain = row.email.strip().lower().rpartition("@")[2]
        if row.email and domain in PERSONAL_DOMAINS[p.country] and rng.random() < 0.5:
            v["email_home"], v["email"] = v["email"], ""  # a private address filed under Home
    else:
        v["lifecycle"] = HUBSPOT_LIFECYCLE[p.lifecycle]
    v["lead_status"] = "" if p.customer else pick(rng, LEAD_STATUS)
    v["marketing_status"] = (
        "Non-marketing contact"
        if p.consent in ("unsubscribed", "no_consent")
        else "Marketing contact"
    )
    v["unsubscribed"] = "true" if p.consent == "unsubscribed" else ("false" if p.consent else "")
    v["opt_out"] = "1" if p.consent == "unsubscribed" else "0"
    v["lead_source"] = p.lead_source
    v.update(row.extra)
    return v


def write_contact_file(out_dir: Path, tenant: Tenant, spec: FileSpec, rows: list[Row]) -> int:
    rng = rng_for("format", spec.path)
    mine = sorted((r for r in rows if r.spec is spec), key=lambda r: r.row_number)
    buf = io.StringIO(newline="")
    writer = csv.writer(
        buf,
        delimiter=spec.delimiter,
        lineterminator=spec.newline,
        quoting=csv.QUOTE_ALL if spec.quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerow(spec.columns)
    for r in mine:
        v = formatted_values(rng, tenant, r)
        values = [v.get(COLUMN_KEYS[c], "") for c in spec.columns]
        if r.ragged:
            # hand-edited row: an unquoted comma in the title shifts every later field by one
            i = spec.columns.index("Title")
            head = spec.delimiter.join(f'"{x}"' for x in values[:i])
            tail = spec.delimiter.join(f'"{x}"' for x in values[i + 1 :])
            buf.write(f"{head}{spec.delimiter}{values[i]}{spec.delimiter}{tail}{spec.newline}")
        else:
            writer.writerow(values)
    if spec.footer:
        nl = spec.newline
        buf.write(
            f'{nl}"Grand Totals ({len(mine)} records)"{nl}'
            f'"Confidential Information - Do Not Distribute"{nl}'
            f'"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."{nl}'
        )
    data = buf.getvalue().encode(spec.encoding)
    if spec.bom:
        data = b"\xef\xbb\xbf" + data
    path = out_dir / spec.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(mine)


# ----------------------------------------------------------------------------------------------
# Activities
# ----------------------------------------------------------------------------------------------


@dataclass
class Event:
    t: datetime
    type: str
    actor: str
    actor_kind: str
    person: Person
    direction: str = ""
    subject: str = ""
    notes: str = ""
    amount: float | None = None
    currency: str = ""
    ticket_id: str = ""
    status: str = ""


SUBJECTS = {
    "en": {
        "email_out": [
            "Follow-up",
            "Quick question",
            "Proposal",
            "Intro",
            "Pricing",
            "Re: demo",
            "Renewal",
            "Checking in",
            "Your trial",
            "Case study you asked for",
        ],
        "email_in": [
            "Re: Proposal",
            "Question about pricing",
            "Re: Follow-up",
            "Invoice",
            "Re: Intro",
            "Out of office",
        ],
        "meeting": ["Discovery call", "Demo", "QBR", "Onboarding", "Contract review", "Kick-off"],
        "webinar": [
            "Webinar: Pipeline hygiene 101",
            "Webinar: Q3 product update",
            "Webinar: Forecasting",
        ],
        "download": [
            "Whitepaper: Data quality",
            "Price list 2026",
            "Case study: Retail",
            "ROI calculator",
        ],
        "form": ["Contact us", "Demo request", "Newsletter signup", "Pricing enquiry"],
        "support": [
            "Cannot log in",
            "Invoice question",
            "Export fails",
            "Password reset",
            "Sync stuck",
            "Feature request",
        ],
        "call_notes": [
            "Left voicemail",
            "Discussed pricing",
            "Wants a demo next week",
            "Not interested right now",
            "Asked about integrations",
            "",
        ],
        "plan": ["Pro monthly", "Team annual", "Starter monthly"],
    },
    "de": {
        "email_out": [
            "Rückfrage Angebot",
            "Nachfassen",
            "Angebot",
            "Terminvorschlag",
            "Preise 2026",
            "Verlängerung",
        ],
        "email_in": [
            "AW: Angebot",
            "Frage zur Rechnung",
            "AW: Terminvorschlag",
            "Abwesenheitsnotiz",
        ],
        "meeting": [
            "Erstgespräch",
            "Produktdemo",
            "Quartalsgespräch",
            "Schulung",
            "Vertragsgespräch",
        ],
        "webinar": ["Webinar: Datenqualität", "Webinar: Neuerungen Q3"],
        "download": ["Whitepaper: Datenqualität", "Preisliste 2026", "Fallstudie Maschinenbau"],
        "form": ["Kontaktformular", "Demo-Anfrage", "Newsletter-Anmeldung"],
        "support": [
            "Login geht nicht",
            "Frage zur Rechnung",
            "Export schlägt fehl",
            "Passwort zurücksetzen",
        ],
        "call_notes": [
            "Mailbox",
            "Preise besprochen",
            "Möchte Demo nächste Woche",
            "Kein Bedarf",
            "",
        ],
        "plan": ["Pro monatlich", "Team jährlich"],
    },
}


class ActivityMaker:
    """Draws one tenant's events, person by person, from the person's engagement profile."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.rng = rng_for("activities", tenant.tenant_id)
        self.words = SUBJECTS["de" if tenant.country == "DE" else "en"]
        self.ticket_seq = 1000
        self.support_user = tenant.users[-1][0]

    # -- time helpers --
    def when(self, start: datetime, end: datetime, business_hours: bool = True) -> datetime:
        if end <= LAST_MOMENT + DAY:  # only scheduled meetings lie ahead of the as-of date
            end = min(end, LAST_MOMENT)
            start = min(start, end - timedelta(hours=1))
        span = max((end - start).total_seconds(), 60.0)
        t = start + timedelta(seconds=self.rng.random() * span)
        if business_hours:
            local_hour = 8 + self.rng.random() * 10
            offset = utc_offset_hours(self.tenant.zone, t)
            t = t.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
                hours=local_hour - offset
            )
            if t > end:
                t -= DAY
            if t < start:
                t = start + timedelta(minutes=self.rng.randint(1, 50))
        return t.replace(microsecond=self.rng.randrange(1000) * 1000)

    def poisson(self, start: datetime, end: datetime, per_month: float) -> list[datetime]:
        out, t = [], start
        if end <= start or per_month <= 0:
            return out
        while True:
            t += timedelta(days=self.rng.expovariate(per_month / 30.0))
            if t >= end:
                return out
            out.append(self.when(t, min(t + DAY, end)))

    # -- event kinds --
    def owner(self, p: Person) -> str:
        return self.tenant.users[p.owner][0]

    def engagement(self, p: Person, t: datetime, stage: str) -> Event:
        r, w = self.rng, self.words
        kind = pick(
            r,
            [
                ("email_out", 34),
                ("email_in", 16),
                ("call", 14),
                ("meeting", 6),
                ("webinar", 8),
                ("download", 9),
                ("form", 5),
                ("bounce", 1),
            ]
            if stage == "lead"
            else [
                ("email_out", 34),
                ("email_in", 22),
                ("call", 14),
                ("meeting", 10),
                ("webinar", 7),
                ("download", 5),
                ("form", 2),
                ("bounce", 1),
            ],
        )
        if kind == "email_out":
            actor = pick(
                r,
                [
                    (self.owner(p), 55),
                    ("mercer" if stage == "lead" else "cheryl", 30),
                    (SYSTEM_ACTOR, 15),
                ],
            )
            return Event(
                t,
                "email",
                actor,
                self.kind_of(actor),
                p,
                direction="outbound",
                subject=r.choice(w["email_out"]) if r.random() < 0.6 else "",
            )
        if kind == "email_in":
            actor = self.owner(p) if r.random() < 0.7 else SYSTEM_ACTOR
            return Event(
                t,
                "email",
                actor,
                self.kind_of(actor),
                p,
                direction="inbound",
                subject=r.choice(w["email_in"]) if r.random() < 0.6 else "",
            )
        if kind == "call":
            actor = pick(
                r, [(self.owner(p), 65), ("mercer", 25 if stage == "lead" else 5), ("binky", 10)]
            )
            note = r.choice(w["call_notes"]) if r.random() < 0.35 else ""
            return Event(
                t,
                "call",
                actor,
                self.kind_of(actor),
                p,
                direction=pick(r, [("outbound", 70), ("inbound", 30)]),
                notes=note,
            )
        if kind == "meeting":
            return self.meeting(p, t, "completed" if r.random() < 0.9 else "cancelled")
        if kind == "bounce":
            return Event(
                t,
                "email_bounce",
                SYSTEM_ACTOR,
                "system",
                p,
                subject="550 5.1.1 mailbox unavailable" if r.random() < 0.5 else "",
            )
        typ = {"webinar": "webinar", "download": "download", "form": "form_submission"}[kind]
        return Event(
            self.when(t, t + DAY, business_hours=False),
            typ,
            SYSTEM_ACTOR,
            "system",
            p,
            subject=r.choice(w[kind]),
        )

    def meeting(self, p: Person, t: datetime, status: str) -> Event:
        actor = pick(self.rng, [(self.owner(p), 75), ("binky", 15), ("mercer", 10)])
        return Event(
            t,
            "meeting",
            actor,
            self.kind_of(actor),
            p,
            subject=self.rng.choice(self.words["meeting"]),
            status=status,
        )

    @staticmethod
    def kind_of(actor: str) -> str:
        return "agent" if actor in AGENTS else "system" if actor == SYSTEM_ACTOR else "user"

    def future_meeting(self, p: Person) -> Event:
        t = self.when(AS_OF_DT + timedelta(days=2), AS_OF_DT + timedelta(days=30))
        return self.meeting(p, t, "scheduled")

    def support_ticket(self, p: Person, opened: datetime, never_close: bool = False) -> list[Event]:
        r = self.rng
        self.ticket_seq += r.randint(1, 7)
        ticket = f"{self.tenant.id_prefix.upper()}-T{self.ticket_seq}"
        subject = r.choice(self.words["support"])
        opener = pick(r, [("cheryl", 55), (self.support_user, 45)])
        events = [
            Event(
                opened,
                "support",
                opener,
                self.kind_of(opener),
                p,
                direction="inbound",
                subject=subject,
                ticket_id=ticket,
                status="open",
            )
        ]
        t = opened
        for _ in range(r.choice([0, 0, 1, 1, 2])):
            t = t + timedelta(hours=r.uniform(2, 60))
            if t >= AS_OF_DT:
                break
            actor = pick(r, [("cheryl", 60), (self.support_user, 40)])
            events.append(
                Event(
                    t,
                    "support",
                    actor,
                    self.kind_of(actor),
                    p,
                    direction="outbound",
                    subject=subject,
                    ticket_id=ticket,
                    status="open",
                )
            )
        close = t + timedelta(days=r.expovariate(1 / 4.0), hours=1)
        if not never_close and close < AS_OF_DT:
            actor = pick(r, [("cheryl", 60), (self.support_user, 40)])
            events.append(
                Event(
                    close,
                    "support",
                    actor,
                    self.kind_of(actor),
                    p,
                    direction="outbound",
                    subject=subject,
                    ticket_id=ticket,
                    status="closed",
                    notes="Resolved" if r.random() < 0.5 else "",
                )
            )
        return events

    # -- purchases: BG/NBD-like buying, Gamma-Gamma-like spend --
    def purchases(self, p: Person, first: datetime, stop: datetime) -> list[Event]:
        r, t = self.rng, first
        lam = r.gammavariate(0.9, 1 / 35.0)  # purchases per day, heterogeneous across customers
        drop = r.betavariate(1.0, 3.5)  # chance to drop out after each purchase
        scale = {"USD": 150.0, "GBP": 120.0, "EUR": 130.0}[self.tenant.currency]
        p_shape, q_shape = 6.0, 4.0
        gamma = scale * (q_shape - 1) / p_shape
        nu = r.gammavariate(q_shape, 1 / gamma)  # the customer's spend rate
        currency = self.tenant.currency
        if r.random() < 0.08:
            currency = r.choice([c for c in CURRENCIES if c != self.tenant.currency])
        out = []
        while t < stop:
            amount = max(4.99, round(r.gammavariate(p_shape, 1 / nu), 2))
            cur = currency if r.random() > 0.03 else r.choice(CURRENCIES)
            out.append(
                Event(
                    self.when(t, t + DAY, business_hours=False),
                    "purchase",
                    SYSTEM_ACTOR,
                    "system",
                    p,
                    amount=amount,
                    currency=cur,
                )
            )
            if r.random() < drop:
                break
            t += timedelta(days=r.expovariate(max(lam, 1 / 400.0)))
        return out

    def customer_extras(self, p: Person, buys: list[Event]) -> list[Event]:
        r, out = self.rng, []
        for b in buys:
            if r.random() < 0.045:
                t = b.t + timedelta(days=r.uniform(1, 20))
                if t < AS_OF_DT:
                    amount = (
                        b.amount if r.random() < 0.7 else round(b.amount * r.uniform(0.2, 0.8), 2)
                    )
                    out.append(
                        Event(
                            t,
                            "refund",
                            SYSTEM_ACTOR,
                            "system",
                            p,
                            amount=amount,
                            currency=b.currency,
                            notes="Damaged on arrival" if r.random() < 0.3 else "",
                        )
                    )
            if r.random() < 0.25:
                out.append(
                    Event(
                        b.t + timedelta(minutes=r.randint(1, 30)),
                        "email",
                        SYSTEM_ACTOR,
                        "system",
                        p,
                        direction="outbound",
                        subject="Order confirmation",
                    )
                )
        if buys and r.random() < 0.35:
            start = buys[0].t + timedelta(minutes=r.randint(1, 20))
            plan = r.choice(self.words["plan"])
            out.append(Event(start, "subscription_start", SYSTEM_ACTOR, "system", p, subject=plan))
            if r.random() < 0.3:
                end = start + timedelta(days=r.uniform(35, 400))
                if end < AS_OF_DT - DAY:
                    out.append(
                        Event(
                            end,
                            "subscription_end",
                            SYSTEM_ACTOR,
                            "system",
                            p,
                            subject=plan,
                            notes=r.choice(["Cancelled by customer", "Payment failed", ""]),
                        )
                    )
        return out

    # -- profiles --
    def events_for(self, p: Person) -> list[Event]:
        r = self.rng
        start = max(WINDOW_START, p.created)
        now = LAST_MOMENT
        ev: list[Event] = []
        if p.profile == "none":
            return ev
        if p.profile == "dormant":
            for _ in range(r.randint(1, 3)):
                ev.append(
                    self.engagement(p, self.when(start, AS_OF_DT - timedelta(days=120)), "lead")
                )
            return ev
        if p.profile == "lapsed":
            end = AS_OF_DT - timedelta(days=r.uniform(65, 240))
            if end - start < timedelta(days=30):
                start = end - timedelta(days=60)
            ev += [
                self.engagement(p, t, "lead")
                for t in self.poisson(start, end, r.uniform(0.45, 1.2))
            ]
            return ev
        if p.profile in ("steady", "hot"):
            ev += [
                self.engagement(p, t, "lead")
                for t in self.poisson(start, now, r.uniform(0.1, 0.58))
            ]
            if p.profile == "hot":
                recent = AS_OF_DT - timedelta(days=13)
                for _ in range(r.randint(3, 7)):
                    e = self.engagement(p, self.when(recent, now), "lead")
                    if e.type in ("email_bounce", "webinar") and r.random() < 0.5:
                        e.type, e.actor, e.actor_kind, e.subject = (
                            "form_submission",
                            SYSTEM_ACTOR,
                            "system",
                            r.choice(self.words["form"]),
                        )
                    ev.append(e)
                if r.random() < 0.4:
                    ev.append(self.future_meeting(p))
            elif r.random() < 0.06:
                ev.append(self.future_meeting(p))
            return ev
        if p.profile == "decliner":
            first = AS_OF_DT - timedelta(days=r.uniform(240, 330))
            buys = self.purchases(p, first, AS_OF_DT - timedelta(days=45))
            ev += buys + self.customer_extras(p, buys)
            ev += [self.engagement(p, t, "customer") for t in self.poisson(start, first, 0.5)]
            for m in range(6):  # busy every month of the 180 days before the last 30
                lo = AS_OF_DT - timedelta(days=210 - 30 * m)
                for _ in range(r.randint(3, 6)):
                    ev.append(
                        self.engagement(p, self.when(lo, lo + timedelta(days=30)), "customer")
                    )
            if r.random() < 0.4:
                ev.append(
                    self.engagement(
                        p,
                        self.when(AS_OF_DT - timedelta(days=29), AS_OF_DT - timedelta(days=20)),
                        "customer",
                    )
                )
            return ev
        # a customer
        latest_first = AS_OF_DT - timedelta(days=5)
        first = self.when(start, latest_first) if start < latest_first else latest_first
        buys = self.purchases(p, first, now)
        ev += buys + self.customer_extras(p, buys)
        alive_until = min(now, buys[-1].t + timedelta(days=r.expovariate(1 / 150.0)))
        ev += [
            self.engagement(p, t, "lead") for t in self.poisson(start, first, r.uniform(0.2, 0.8))
        ]
        ev += [
            self.engagement(p, t, "customer")
            for t in self.poisson(first, alive_until, r.uniform(0.25, 0.95))
        ]
        if r.random() < 0.2:
            for _ in range(r.choice([1, 1, 2])):
                ev += self.support_ticket(p, self.when(first, now))
        if r.random() < 0.06:
            ev.append(self.future_meeting(p))
        return ev


def planted_open_tickets(maker: ActivityMaker, people: list[Person]) -> list[Event]:
    """Tickets still open at the as-of date: some just opened, one forgotten for months."""
    rng = rng_for("open_tickets", maker.tenant.tenant_id)
    pool = [p for p in people if p.profile == "customer"]
    out = []
    for i, p in enumerate(rng.sample(pool, 5)):
        opened = (
            AS_OF_DT - timedelta(days=rng.uniform(1, 10))
            if i < 4
            else AS_OF_DT - timedelta(days=rng.uniform(40, 100))
        )
        out += maker.support_ticket(p, maker.when(opened, opened + DAY), never_close=True)
    return out


# ----------------------------------------------------------------------------------------------
# Activity lines: contact references, ids, JSON, and the bad lines
# ----------------------------------------------------------------------------------------------


class References:
    """How a line names its contact: mostly a source record id, else an email or a raw phone."""

    def __init__(self, tenant: Tenant, people: list[Person]):
        self.tenant = tenant
        # only what a readable record carries can identify; a phone two people share never does
        self.emails = {
            p.email
            for p in people
            if p.email and any(r.email_matches and not r.expected for r in p.rows)
        }
        written = {ph for p in people for r in p.rows if not r.expected for ph in r.phones_written}
        phone_people: dict[Phone, list] = {}
        for p in people:
            for ph in (p.phone, p.mobile):
                if ph and p.pid not in phone_people.get(ph, []):
                    phone_people.setdefault(ph, []).append(p.pid)
        self.unique_phones = {
            ph for ph, pids in phone_people.items() if len(pids) == 1 and ph in written
        }

    def choose(self, rng: Random, e: Event) -> tuple[str, str]:
        p = e.person
        valid_rows = [r for r in p.rows if not r.expected]
        roll = rng.random()
        if roll < 0.11 and p.email in self.emails:
            text = p.email
            style = rng.random()
            if style < 0.2:
                text = mangle_case(rng, text)
            elif style < 0.28:
                text = f" {text} "
            return "email", text
        if roll < 0.18:
            phones = [ph for ph in (p.mobile, p.phone) if ph and ph in self.unique_phones]
            if phones:
                return "phone", format_phone(
                    phones[0], phone_style(rng, self.tenant), self.tenant.country
                )
        # the record that existed when the activity happened, mostly the oldest one
        known = [r for r in valid_rows if r.created <= e.t] or valid_rows[:1]
        row = known[0] if rng.random() < 0.8 else rng.choice(known)
        return "source_id", row.source_id


def event_dict(
    e: Event, ref: tuple[str, str], tenant: Tenant, activity_id: str, rng: Random
) -> dict:
    if e.actor_kind == "system":
        style = "ms"
    elif e.actor_kind == "agent":
        style = pick(rng, [("z", 60), ("utc_offset", 15), ("local", 25)])
    else:
        style = pick(rng, [("local", 75), ("z", 25)])
    d = {
        "activity_id": activity_id,
        "tenant_id": tenant.tenant_id,
        "type": e.type,
        "occurred_at": iso_with_zone(e.t, style, tenant.zone),
        ref[0]: ref[1],
        "actor": e.actor,
    }
    if rng.random() > 0.08:
        d["actor_kind"] = e.actor_kind
    for key in ("direction", "subject", "notes"):
        if getattr(e, key):
            d[key] = getattr(e, key)
    if e.amount is not None:
        d["amount"], d["currency"] = e.amount, e.currency
    if e.ticket_id:
        d["ticket_id"] = e.ticket_id
    if e.status:
        d["status"] = e.status
    return d


def with_ref(d: dict, key: str, value: str) -> dict:
    """The same line naming its contact differently, keys kept in the log's usual order."""
    out = {}
    for k, v in d.items():
        if k in ("source_id", "email", "phone"):
            out[key] = value
        else:
            out[k] = v
    return out


def dumps(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Trap:
    line: str
    expected: str  # reason code, or "merged"/"accepted" for the harmless ones
    note: str
    after_id: str = ""  # placed after the line with this activity_id
    line_number: int = 0
    activity_id: str = ""


def activity_traps(
    rng: Random,
    tenant: Tenant,
    lines: list[dict],
    people: list[Person],
    foreign_email: str,
    other_tenant: str,
    next_id,
) -> list[Trap]:
    """One bad line per quarantine reason (and a re-delivery), built from otherwise valid lines."""
    emails = [
        d
        for d in lines
        if d["type"] == "email" and "source_id" in d and d["occurred_at"] < "2026-10"
    ]
    base = rng.choice(emails)
    purchase = rng.choice([d for d in lines if d["type"] == "purchase" and "source_id" in d])

    def variant(**changes) -> dict:
        d = dict(base)
        d["activity_id"] = next_id()
        for k, v in changes.items():
            if v is None:
                d.pop(k, None)
            else:
                d[k] = v
        return d

    traps = []
    broken = dumps(variant())
    traps.append(Trap(broken[: len(broken) // 2], "unparseable_row", "truncated JSON line"))
    if tenant.tenant_id == "brit_gb":
        traps.append(
            Trap(
                '["email","2026-03-01T10:00:00Z"]',
                "unparseable_row",
                "valid JSON, but an array, not an object",
            )
        )
    no_tenant = variant()
    no_tenant.pop("tenant_id")
    traps.append(Trap(dumps(no_tenant), "missing_tenant", "no tenant_id field"))
    traps.append(
        Trap(
            dumps(variant(tenant_id=other_tenant)),
            "tenant_mismatch",
            f"tenant_id {other_tenant} in {tenant.tenant_id}'s log",
        )
    )
    traps.append(
        Trap(
            dumps(variant(occurred_at=rng.choice(["yesterday afternoon", "2026-13-45T25:61:00Z"]))),
            "bad_timestamp",
            "unreadable timestamp",
        )
    )
    traps.append(
        Trap(
            dumps(variant(occurred_at="2026-10-02T14:30:00")),
            "bad_timestamp",
            "timestamp without a zone",
        )
    )
    traps.append(
        Trap(
            dumps(variant(occurred_at="2029-06-01T10:00:00Z")),
            "future_timestamp",
            "an email dated 2029",
        )
    )
    traps.append(
        Trap(dumps(variant(type="fax", direction="outbound")), "unknown_activity_type", "type fax")
    )
    traps.append(
        Trap(
            dumps(with_ref(variant(), "source_id", "99999999999")),
            "unknown_contact",
            "source_id that no record has",
        )
    )
    traps.append(
        Trap(
            dumps(with_ref(variant(), "email", foreign_email)),
            "unknown_contact",
            "email of a contact that exists only in another tenant",
        )
    )
    conflict = dict(base)
    conflict["notes"] = "edited after export"
    conflict["occurred_at"] = base["occurred_at"][:11] + "23:59:59Z"
    traps.append(
        Trap(
            dumps(conflict),
            "conflicting_duplicate",
            "activity_id seen before, different content",
            after_id=base["activity_id"],
        )
    )
    traps.append(
        Trap(
            dumps(purchase),
            "merged",
            "the same line delivered twice (harmless)",
            after_id=purchase["activity_id"],
        )
    )
    bad_cur = dict(purchase)
    bad_cur["activity_id"], bad_cur["currency"] = next_id(), "XYZ"
    traps.append(Trap(dumps(bad_cur), "unknown_currency", "purchase in currency XYZ"))
    for t in traps:
        try:
            t.activity_id = (
                json.loads(t.line).get("activity_id", "") if t.line.startswith("{") else ""
            )
        except json.JSONDecodeError:
            t.activity_id = ""
    return traps


def build_activity_log(
    tenant: Tenant, people: list[Person], foreign_email: str, other_tenant: str
) -> tuple[str, list[Trap], dict]:
    """A tenant's log in time order, as a system appends it, with the bad lines mixed in."""
    maker = ActivityMaker(tenant)
    events: list[Event] = []
    for p in people:
        if any(not r.expected for r in p.rows):
            events += maker.events_for(p)
    events += planted_open_tickets(maker, people)
    # follow-ups (confirmations, subscriptions) of a purchase in the last minutes stay in the past
    events = [e for e in events if e.t <= LAST_MOMENT or e.status == "scheduled"]
    events.sort(key=lambda e: (e.t, e.person.pid, e.type))
    rng = rng_for("lines", tenant.tenant_id)
    refs = References(tenant, people)
    seq = iter(range(1, 10**7))

    def next_id() -> str:
        return f"{tenant.id_prefix}-{next(seq):06d}"

    lines = [event_dict(e, refs.choose(rng, e), tenant, next_id(), rng) for e in events]
    traps = activity_traps(rng, tenant, lines, people, foreign_email, other_tenant, next_id)
    text_lines = [dumps(d) for d in lines]
    ids = [d["activity_id"] for d in lines]
    # place traps after their original when they have one, else anywhere in the later two thirds
    placed: list[tuple[int, int, Trap]] = []
    for k, trap in enumerate(traps):
        if trap.after_id:
            pos = ids.index(trap.after_id) + 1 + rng.randint(5, 400)
        else:
            pos = rng.randint(len(lines) // 3, len(lines))
        placed.append((min(pos, len(lines)), k, trap))
    placed.sort(key=lambda x: (x[0], x[1]))
    out, j = [], 0
    for i, line in enumerate(text_lines + [None]):
        while j < len(placed) and placed[j][0] == i:
            out.append(placed[j][2].line)
            placed[j][2].line_number = len(out)
            j += 1
        if line is not None:
            out.append(line)
    counts = {t: 0 for t in ACTIVITY_TYPES}
    for d in lines:
        counts[d["type"]] += 1
    future_meetings = sum(1 for e in events if e.type == "meeting" and e.status == "scheduled")
    for e_line, e in zip(lines, events, strict=True):
        if e.status == "scheduled":
            traps.append(
                Trap(
                    dumps(e_line),
                    "accepted",
                    "future meeting with status scheduled (legitimate)",
                    line_number=out.index(dumps(e_line)) + 1,
                    activity_id=e_line["activity_id"],
                )
            )
            break
    stats = {
        "lines": len(out),
        "events": len(lines),
        "by_type": counts,
        "future_meetings": future_meetings,
    }
    return "\n".join(out) + "\n", traps, stats


# ----------------------------------------------------------------------------------------------
# Manifest, README, truth tables
# ----------------------------------------------------------------------------------------------


def manifest_text() -> str:
    lines = [
        "# The embedded sample: written by data/generate_sample.py, do not edit by hand.",
        'as_of: "2026-11-15"          # the sample\'s as-of date: demo runs use it so segments '
        "are reproducible",
        "tenants:",
    ]
    for t in TENANTS:
        fields = f"tenant_id: {t.tenant_id}, name: {t.name}, home_country: {t.country}"
        lines.append(f"  - {{{fields}, base_currency: {t.currency}}}")
    lines.append("imports:          # in order; the demo imports each file for its tenant")
    for t in TENANTS:
        for spec in t.files:
            lines.append(f"  - {{tenant_id: {t.tenant_id}, kind: contacts, file: {spec.path}}}")
    for t in TENANTS:
        path = f"{t.tenant_id}/activities.jsonl"
        lines.append(f"  - {{tenant_id: {t.tenant_id}, kind: activities, file: {path}}}")
    lines += [
        "ground_truth:     # what the generator intended; for tests, never imported",
        "  contact_rows: truth/contact_rows.csv",
        "  activity_traps: truth/activity_traps.csv",
    ]
    return "\n".join(lines) + "\n"


def truth_rows_csv(rows_by_tenant: dict[str, list[Row]]) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "tenant_id",
            "file",
            "row_number",
            "source_id",
            "person_id",
            "role",
            "variation",
            "person_trap",
            "same_person_in",
            "expected_quarantine",
        ]
    )
    for t in TENANTS:
        for r in sorted(rows_by_tenant[t.tenant_id], key=lambda r: (r.spec.path, r.row_number)):
            p = r.person
            w.writerow(
                [
                    t.tenant_id,
                    r.spec.path,
                    r.row_number,
                    r.source_id,
                    p.pid if p else "",
                    r.role,
                    r.variation,
                    p.trap if p else "",
                    p.twin if p else "",
                    r.expected,
                ]
            )
    return buf.getvalue()


def truth_traps_csv(traps_by_tenant: dict[str, list[Trap]]) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["tenant_id", "file", "line_number", "activity_id", "expected", "note"])
    for t in TENANTS:
        for trap in sorted(traps_by_tenant[t.tenant_id], key=lambda x: x.line_number):
            w.writerow(
                [
                    t.tenant_id,
                    f"{t.tenant_id}/activities.jsonl",
                    trap.line_number,
                    trap.activity_id,
                    trap.expected,
                    trap.note,
                ]
            )
    return buf.getvalue()


FILE_FORMATS = {
    "acme_us/hubspot_contacts.csv": "HubSpot contacts export: UTF-8, LF, `Create Date` like "
    "`2024-03-12 09:14` "
    "(no zone), sizes typed as `250`, `1,000`, `100-499`, `5000+`, US ZIP codes with leading "
    "zeros (`02134`).",
    "acme_us/salesforce_contacts_report.csv": "Salesforce report export (every field quoted, "
    "CRLF, US dates "
    "`3/12/2024`) with an added `Contact ID` column; ends with the report footer.",
    "brit_gb/salesforce_contacts_report.csv": "Salesforce report export (quoted, CRLF, UK dates "
    "`12/03/2024`, "
    "`Email Opt Out` 0/1, `Employees` like `1,000`) with a `Contact ID` column; ends with the "
    "real footer: a blank "
    'line, `"Grand Totals (N records)"`, `"Confidential Information - Do Not Distribute"`, the '
    "copyright line.",
    "brit_gb/hubspot_contacts.csv": "HubSpot export whose `Record ID`s have 19 digits (they "
    "lose precision as "
    "floats; read ids as text).",
    "deutsch_de/pipedrive_people.csv": "Pipedrive people export: `;`-delimited, **cp1252** (not "
    "valid UTF-8), "
    "CRLF; umlauts and ß (Müller, Jürgen, Weiß); sizes as ranges (`100-499`, `5000+`); PLZ with "
    "leading zero "
    "(`01067`); `Person - Marketing status` Subscribed/Unsubscribed/No consent; private "
    "addresses under "
    "`Person - Email - Home`.",
    "deutsch_de/hubspot_contacts.csv": "HubSpot export in UTF-8 **with a BOM**; holds the names "
    "cp1252 cannot "
    "encode (Ayşe, Yılmaz, Şahin).",
}
ROW_TRAP_LABELS = {
    "invalid_email_no_domain": "email without a domain (`x@`)",
    "invalid_email_at_word": "email written `name at domain`",
    "invalid_email_double_at": "email with `@@`",
    "phone_not_a_number": "phone that is words (`n/a`, `keine Angabe`)",
    "phone_too_short": "phone `123`",
    "mobile_not_a_number": "mobile `n/a`",
    "phone_double_zero_prefix": "phone with `0044` prefix",
    "formula_company": '`=HYPERLINK("http://x","y")` as company',
    "formula_title": "`+cmd\\|' /C calc'!A0` as title",
    "formula_organization": "`@SUM(1+1)*cmd\\|...` as organization",
    "sql_in_notes": "SQL (`'); DROP TABLE contacts;--`) in `Notes`",
    "embedded_newline_and_comma": "quoted street with an embedded newline and comma",
    "embedded_delimiter_and_newline": "quoted address with an embedded `;` and newline",
    "zip_plus_four": "ZIP+4 `02134-1203`",
    "postcode_lower_no_space": "postcode in lower case without its space",
    "euro_sign_cp1252": "`€` in a title",
    "missing_identity_company_only": "no name, email or phone (missing_identity)",
    "missing_identity_whitespace_name": "name of spaces only, no email or phone (missing_identity)",
    "ragged_row_unquoted_comma": "ragged row: unquoted comma in `Title`, one field too many "
    "(unparseable_row)",
    "all_caps": "ALL-CAPS name",
    "all_lower": "all-lower-case name",
    "whitespace": "name padded with spaces",
    "email_whitespace": "email padded with spaces and a tab",
}
PERSON_TRAP_LABELS = {
    "common_name": "record of a namesake (several different people, one name)",
    "shared_main_line": "colleague reached on the company switchboard number",
    "cross_tenant_twin": "person also in another tenant (same email)",
    "cjk_name": "CJK name (王 秀英)",
}


def file_traps(rows: list[Row]) -> str:
    """The traps a file holds, counted from its rows, so the README cannot drift from the data."""
    counts: dict[str, int] = {}
    for r in rows:
        if r.role != "duplicate" and r.variation in ROW_TRAP_LABELS:
            counts[ROW_TRAP_LABELS[r.variation]] = counts.get(ROW_TRAP_LABELS[r.variation], 0) + 1
        if r.person and r.person.trap:
            label = PERSON_TRAP_LABELS[r.person.trap]
            counts[label] = counts.get(label, 0) + 1
    return "; ".join(f"{label} ×{n}" for label, n in counts.items())


def readme_text(
    rows_by_tenant: dict[str, list[Row]],
    people_by_tenant: dict[str, list[Person]],
    stats: dict[str, dict],
) -> str:
    lines = [
        "# Sample data",
        "",
        "Written by `python data/generate_sample.py` (deterministic: change the generator and "
        "rerun, never edit "
        "by hand). As-of date **2026-11-15**; `manifest.yaml` lists the tenants and the import "
        "order. Three "
        "tenants: `acme_us` (USD), `brit_gb` (GBP), `deutsch_de` (EUR).",
        "",
        "| file | records | format, and the traps it holds (counts are records) |",
        "| --- | ---: | --- |",
    ]
    for t in TENANTS:
        rows = rows_by_tenant[t.tenant_id]
        for spec in t.files:
            mine = sorted((r for r in rows if r.spec is spec), key=lambda r: r.row_number)
            dups = sum(1 for r in mine if r.role == "duplicate")
            lines.append(
                f"| `{spec.path}` | {len(mine)} | {FILE_FORMATS[spec.path]} {dups} duplicate "
                f"records. "
                f"Traps: {file_traps(mine)}. |"
            )
        s = stats[t.tenant_id]
        lines.append(
            f"| `{t.tenant_id}/activities.jsonl` | {s['lines']} lines | JSON lines from "
            f"2025-05-15 to the as-of "
            f"date, plus {s['future_meetings']} future meetings with status `scheduled` "
            f"(legitimate); every "
            "activity type; zones `Z`, `+00:00`, local offsets, some with milliseconds; "
            "contacts named by "
            "`source_id` (mostly), `email` (odd case, spaces) or a raw `phone`. Bad lines, one "
            "per quarantine "
            "reason: truncated JSON"
            + (", a JSON array" if t.tenant_id == "brit_gb" else "")
            + ", no `tenant_id`, another tenant's `tenant_id`, unreadable timestamp, timestamp "
            "without zone, "
            "an email dated 2029, type `fax`, unknown `source_id`, the email of another "
            "tenant's contact, a reused "
            "`activity_id` with new content, an identical re-delivered line (merged, not "
            "quarantined), a purchase "
            "in `XYZ`. |"
        )
    lines += [
        "| `truth/contact_rows.csv` | | Per contact record: the person it really is "
        "(`person_id`), `original` / "
        "`duplicate` / `special`, how it varies, the person's trap, the same person in another "
        "tenant, and the "
        "expected quarantine reason. `row_number` counts records after the header (a record "
        "with an embedded "
        "newline counts once; footer lines are not records). |",
        "| `truth/activity_traps.csv` | | Every planted line with its physical line number and "
        "expected outcome. |",
        "",
        "## People and duplicates",
        "",
        "| tenant | people | records | duplicate records | customers |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for t in TENANTS:
        ppl, rows = people_by_tenant[t.tenant_id], rows_by_tenant[t.tenant_id]
        lines.append(
            f"| {t.tenant_id} | {len(ppl)} | {len(rows)} | "
            f"{sum(1 for r in rows if r.role == 'duplicate')} | "
            f"{sum(1 for p in ppl if p.customer)} |"
        )
    lines += [
        "",
        "Duplicates (`variation` in the truth file) differ by: email case or spaces "
        "(`email_case`); "
        "plus-addressing, same phone (`email_plus`); another phone format with another or no email "
        "(`phone_format`); nickname, Robert/Bob, Katherine/Kate (`nickname`); a one-letter "
        "typo, same phone "
        "(`typo`); first and last name swapped (`swapped`); company suffix, `Inc.` / `, Inc` / "
        "none, sometimes "
        "in capitals (`company_variant`); re-entry (`exact`); capitals (`all_caps`); and "
        "`fuzzy_only` (nickname "
        "or typo, other email, no phone: only fuzzy matching on name and company finds them). "
        "All but "
        "`fuzzy_only` share an email or a phone after normalization. Not duplicates: namesakes "
        "at different "
        "companies, colleagues sharing a switchboard number, and one person in two tenants "
        "(`same_person_in`), "
        "who must stay two contacts.",
        "",
        "Activities follow each person's profile, so every contract segment has members at "
        "2026-11-15: hot "
        "leads (bursts in the last 14 days), existing customers (BG/NBD-like repeat purchases, "
        "Gamma-Gamma-like "
        "order values, refunds, subscriptions started and ended), enterprise prospects, open "
        "support tickets, "
        "cold and stale records, and declining engagement (customers busy every month from day "
        "-210 to day -30, "
        "silent since). Actors: users (`jane.rep`, ...), agents `mercer` (emails, calls and "
        "meetings with "
        "leads), `cheryl` (support, customer emails), `binky` (calls, meetings), and the system "
        "`pipeline` "
        "(purchases, refunds, subscriptions, webinars, downloads, forms, bounces, some emails).",
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------


def generate(out_dir: Path) -> dict:
    out_dir = Path(out_dir)
    people_by_tenant = {t.tenant_id: make_people(t) for t in TENANTS}
    add_cross_tenant_twins(people_by_tenant)
    rows_by_tenant: dict[str, list[Row]] = {}
    for t in TENANTS:
        rows = make_rows(t, people_by_tenant[t.tenant_id])
        assign_ids(t, rows)
        rows_by_tenant[t.tenant_id] = rows
        for spec in t.files:
            write_contact_file(out_dir, t, spec, rows)
    stats, traps_by_tenant = {}, {}
    order = [t.tenant_id for t in TENANTS]
    for i, t in enumerate(TENANTS):
        other = TENANT_BY_ID[order[(i + 1) % len(order)]]
        mine = {p.email for p in people_by_tenant[t.tenant_id] if p.email}
        foreign = next(
            p.email
            for p in people_by_tenant[other.tenant_id]
            if p.email and p.email not in mine and not p.trap and p.rows and not p.rows[0].expected
        )
        text, traps, s = build_activity_log(
            t, people_by_tenant[t.tenant_id], foreign, other.tenant_id
        )
        (out_dir / t.tenant_id / "activities.jsonl").write_text(
            text, encoding="utf-8", newline="\n"
        )
        stats[t.tenant_id], traps_by_tenant[t.tenant_id] = s, traps
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    (out_dir / "truth" / "contact_rows.csv").write_text(
        truth_rows_csv(rows_by_tenant), encoding="utf-8", newline="\n"
    )
    (out_dir / "truth" / "activity_traps.csv").write_text(
        truth_traps_csv(traps_by_tenant), encoding="utf-8", newline="\n"
    )
    (out_dir / "manifest.yaml").write_text(manifest_text(), encoding="utf-8", newline="\n")
    (out_dir / "README.md").write_text(
        readme_text(rows_by_tenant, people_by_tenant, stats), encoding="utf-8", newline="\n"
    )
    return {"rows": {t: len(r) for t, r in rows_by_tenant.items()}, "activities": stats}


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "sample"
    summary = generate(out)
    for tenant_id, s in summary["activities"].items():
        print(
            f"{tenant_id}: {summary['rows'][tenant_id]} contact records, {s['lines']} activity "
            f"lines"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
