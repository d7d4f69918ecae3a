"""The vocabulary of grid-based party-building work (see DOMAIN.md, glossary).

Each enumeration value is the short English name used in code, files and the
database; :meth:`DomainEnum.label` gives the Simplified Chinese (default) or
English label, and :meth:`DomainEnum.parse` accepts the English name, the
Chinese term and common aliases, so templates filled in by hand in Chinese load
unchanged.
"""

from __future__ import annotations

import enum
from typing import Self

from gridmap.errors import UnknownValueError

__all__ = [
    "AdminLevel",
    "DomainEnum",
    "OrgKind",
    "OrgStatus",
    "StationTier",
    "UnitKind",
]


class DomainEnum(enum.StrEnum):
    """A string enum with Chinese labels and tolerant parsing."""

    def label(self, lang: str = "zh") -> str:
        """Return the label in ``"zh"`` (Simplified Chinese) or ``"en"``."""
        zh, en = _LABELS[type(self)][self.value]
        return en if lang == "en" else zh

    @classmethod
    def parse(cls, text: object) -> Self:
        """Parse an English name, a Chinese term or an alias.

        Raises
        ------
        UnknownValueError
            A ``ValueError`` naming the accepted values, when ``text`` matches none.
        """
        key = str(text).strip()
        lowered = key.lower().replace("-", "_").replace(" ", "_")
        labels = _LABELS[cls]
        for member in cls:
            zh, en = labels[member.value]
            if lowered in (member.value, en.lower().replace(" ", "_")) or key == zh:
                return member
        aliases = _ALIASES[cls]
        for candidate in (key, lowered):
            if candidate in aliases:
                return cls(aliases[candidate])
        accepted = ", ".join(f"{m.value} ({labels[m.value][0]})" for m in cls)
        msg = f"unknown {cls.__name__} {key!r}; accepted: {accepted}"
        raise UnknownValueError(msg)


class AdminLevel(DomainEnum):
    """Administrative level of an area (GB/T 2260 and the statistical codes)."""

    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


class UnitKind(DomainEnum):
    """Kinds of unit that must be covered by a party organisation."""

    VILLAGE = "village"
    COMMUNITY = "community"
    BUILDING = "building"
    PARK = "park"
    FIRM = "firm"
    SOCIAL_ORG = "social_org"


class OrgKind(DomainEnum):
    """Kinds of party organisation."""

    COMMITTEE = "committee"
    GENERAL_BRANCH = "general_branch"
    BRANCH = "branch"
    JOINT_BRANCH = "joint_branch"


class StationTier(DomainEnum):
    """Tiers of party-mass service site, from county centre to service point."""

    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    COMMUNITY = "community"
    BUILDING = "building"
    PARK = "park"
    POINT = "point"


class OrgStatus(DomainEnum):
    """Organisational coverage status of a unit."""

    OWN = "own"
    JOINT = "joint"
    HOSTED = "hosted"
    INSTRUCTOR = "instructor"
    NONE = "none"


_LABELS: dict[type[DomainEnum], dict[str, tuple[str, str]]] = {
    AdminLevel: {
        "province": ("省", "province"),
        "prefecture": ("市", "prefecture"),
        "county": ("县（市、区）", "county"),
        "township": ("乡镇（街道）", "township / sub-district"),
        "village": ("村（社区）", "village / community"),
    },
    UnitKind: {
        "village": ("村", "village"),
        "community": ("社区", "community"),
        "building": ("商务楼宇", "commercial building"),
        "park": ("园区", "park"),
        "firm": ("非公企业", "private firm"),
        "social_org": ("社会组织", "social organisation"),
    },
    OrgKind: {
        "committee": ("党委", "party committee"),
        "general_branch": ("党总支", "general branch"),
        "branch": ("党支部", "branch"),
        "joint_branch": ("联合党支部", "joint branch"),
    },
    StationTier: {
        "county": ("县级党群服务中心", "county centre"),
        "township": ("乡镇（街道）党群服务中心", "township centre"),
        "village": ("村党群服务站", "village station"),
        "community": ("社区党群服务站", "community station"),
        "building": ("楼宇党群服务站", "building station"),
        "park": ("园区党群服务站", "park station"),
        "point": ("党群服务点", "service point"),
    },
    OrgStatus: {
        "own": ("单独建立", "own branch"),
        "joint": ("联合建立", "joint branch"),
        "hosted": ("托管覆盖", "hosted by a hub"),
        "instructor": ("党建指导员", "instructor (work coverage)"),
        "none": ("未覆盖", "not covered"),
    },
}

_ALIASES: dict[type[DomainEnum], dict[str, str]] = {
    AdminLevel: {
        "省级": "province",
        "地级": "prefecture",
        "市级": "prefecture",
        "city": "prefecture",
        "县": "county",
        "区": "county",
        "县级": "county",
        "district": "county",
        "乡": "township",
        "镇": "township",
        "街道": "township",
        "乡镇": "township",
        "subdistrict": "township",
        "sub_district": "township",
        "town": "township",
        "村": "village",
        "社区": "village",
        "community": "village",
        "村居": "village",
    },
    UnitKind: {
        "行政村": "village",
        "自然村": "village",
        "屯": "village",
        "hamlet": "village",
        "natural_village": "village",
        "居委会": "community",
        "小区": "community",
        "楼宇": "building",
        "写字楼": "building",
        "commercial_building": "building",
        "产业园": "park",
        "工业园": "park",
        "工业园区": "park",
        "industrial_park": "park",
        "企业": "firm",
        "private_firm": "firm",
        "company": "firm",
        "social_organisation": "social_org",
        "social_organization": "social_org",
    },
    OrgKind: {
        "party_committee": "committee",
        "党总支部": "general_branch",
        "总支": "general_branch",
        "支部": "branch",
        "party_branch": "branch",
        "联合支部": "joint_branch",
        "joint": "joint_branch",
    },
    StationTier: {
        "县级": "county",
        "县": "county",
        "county_centre": "county",
        "county_center": "county",
        "乡镇": "township",
        "街道": "township",
        "乡镇街道": "township",
        "township_centre": "township",
        "township_center": "township",
        "村": "village",
        "村级": "village",
        "社区": "community",
        "楼宇": "building",
        "园区": "park",
        "服务点": "point",
        "代办点": "point",
        "为民服务全程代办点": "point",
        "service_point": "point",
    },
    OrgStatus: {},
}
