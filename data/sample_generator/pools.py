"""Reference pools: names, titles, industries, company words, mail domains, cities, streets.

Small and hand-written: the sample needs plausibility, not coverage.
"""

from __future__ import annotations

from dataclasses import dataclass

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
