"""The three tenants and the contact files each exports (vendor, columns, styles, dialect)."""

from __future__ import annotations

from dataclasses import dataclass


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
