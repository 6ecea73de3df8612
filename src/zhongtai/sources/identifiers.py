"""Mainland-Chinese identifiers for synthetic people: national IDs, mobiles, names, addresses.

National IDs and phone numbers must be unique per person across the whole run, yet every
chunk of applicants is generated on its own. Both are therefore a keyed pseudo-random
*permutation* of the person's global index (a Feistel network with cycle walking): distinct
people get distinct identifiers by construction, with no registry shared between chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa

from zhongtai.privacy.identity import check_characters, has_valid_check_character
from zhongtai.sources.encoding import (
    digit_matrix,
    fixed_width,
    hex_matrix,
    integer_text,
    join,
    pick,
    yyyymmdd,
)


@dataclass(frozen=True)
class Area:
    """A county-level administrative division (the first six digits of a national ID)."""

    code: int
    prefix: str  # province + city, as written at the start of an address
    district: str
    weight: float  # relative share of applicants
    income_factor: float  # local wage level relative to the national median


def _city(prefix: str, weight: float, income: float, districts: dict[int, str]) -> list[Area]:
    share = weight / len(districts)
    return [Area(code, prefix, name, share, income) for code, name in districts.items()]


# Real division codes (GB/T 2260) of districts in 33 cities; weights are rough applicant shares.
AREAS: tuple[Area, ...] = tuple(
    _city("北京市", 6.0, 1.5, {110101: "东城区", 110102: "西城区", 110105: "朝阳区",
                            110106: "丰台区", 110108: "海淀区", 110114: "昌平区"})
    + _city("上海市", 6.0, 1.5, {310101: "黄浦区", 310104: "徐汇区", 310106: "静安区",
                              310107: "普陀区", 310110: "杨浦区", 310112: "闵行区",
                              310115: "浦东新区"})
    + _city("天津市", 3.0, 1.1, {120101: "和平区", 120102: "河东区", 120103: "河西区",
                              120104: "南开区"})
    + _city("重庆市", 4.5, 1.0, {500103: "渝中区", 500105: "江北区", 500106: "沙坪坝区",
                              500107: "九龙坡区", 500112: "渝北区"})
    + _city("广东省广州市", 5.5, 1.4, {440103: "荔湾区", 440104: "越秀区", 440105: "海珠区",
                                    440106: "天河区", 440111: "白云区", 440113: "番禺区"})
    + _city("广东省深圳市", 5.5, 1.5, {440303: "罗湖区", 440304: "福田区", 440305: "南山区",
                                    440306: "宝安区", 440307: "龙岗区"})
    + _city("浙江省杭州市", 4.0, 1.3, {330102: "上城区", 330105: "拱墅区", 330106: "西湖区",
                                    330108: "滨江区", 330110: "余杭区"})
    + _city("浙江省宁波市", 2.0, 1.2, {330203: "海曙区", 330212: "鄞州区"})
    + _city("江苏省南京市", 3.0, 1.25, {320102: "玄武区", 320104: "秦淮区", 320105: "建邺区",
                                     320106: "鼓楼区"})
    + _city("江苏省苏州市", 3.0, 1.25, {320505: "虎丘区", 320506: "吴中区", 320508: "姑苏区"})
    + _city("四川省成都市", 5.0, 1.05, {510104: "锦江区", 510105: "青羊区", 510106: "金牛区",
                                     510107: "武侯区", 510108: "成华区"})
    + _city("湖北省武汉市", 3.5, 1.05, {420102: "江岸区", 420103: "江汉区", 420106: "武昌区",
                                     420111: "洪山区"})
    + _city("陕西省西安市", 3.0, 0.95, {610102: "新城区", 610103: "碑林区", 610104: "莲湖区",
                                     610113: "雁塔区"})
    + _city("湖南省长沙市", 3.0, 1.0, {430102: "芙蓉区", 430103: "天心区", 430104: "岳麓区",
                                    430105: "开福区"})
    + _city("河南省郑州市", 3.5, 0.9, {410102: "中原区", 410103: "二七区", 410105: "金水区"})
    + _city("山东省济南市", 2.0, 1.0, {370102: "历下区", 370103: "市中区"})
    + _city("山东省青岛市", 2.5, 1.05, {370202: "市南区", 370203: "市北区"})
    + _city("福建省福州市", 1.5, 1.0, {350102: "鼓楼区", 350104: "仓山区"})
    + _city("福建省厦门市", 1.5, 1.1, {350203: "思明区", 350206: "湖里区"})
    + _city("云南省昆明市", 2.0, 0.9, {530102: "五华区", 530103: "盘龙区"})
    + _city("广西壮族自治区南宁市", 2.0, 0.85, {450102: "兴宁区", 450103: "青秀区"})
    + _city("辽宁省沈阳市", 2.0, 0.9, {210102: "和平区", 210103: "沈河区"})
    + _city("黑龙江省哈尔滨市", 1.5, 0.8, {230102: "道里区", 230103: "南岗区"})
    + _city("吉林省长春市", 1.2, 0.85, {220102: "南关区", 220104: "朝阳区"})
    + _city("安徽省合肥市", 2.5, 1.0, {340102: "瑶海区", 340103: "庐阳区", 340104: "蜀山区"})
    + _city("江西省南昌市", 1.5, 0.9, {360102: "东湖区", 360103: "西湖区"})
    + _city("贵州省贵阳市", 1.2, 0.85, {520102: "南明区", 520103: "云岩区"})
    + _city("河北省石家庄市", 1.8, 0.85, {130102: "长安区", 130104: "桥西区"})
    + _city("山西省太原市", 1.2, 0.85, {140105: "小店区", 140106: "迎泽区"})
    + _city("内蒙古自治区呼和浩特市", 0.8, 0.9, {150102: "新城区"})
    + _city("甘肃省兰州市", 0.8, 0.8, {620102: "城关区"})
    + _city("新疆维吾尔自治区乌鲁木齐市", 0.8, 0.9, {650102: "天山区"})
    + _city("海南省海口市", 0.8, 0.9, {460106: "龙华区"})
)  # fmt: skip

# Mobile number segments of China Mobile, China Unicom, China Telecom (and 170/171 resellers).
MOBILE_PREFIXES: tuple[int, ...] = (
    *range(130, 140),
    150, 151, 152, 153, 155, 156, 157, 158, 159,
    170, 171, 173, 175, 176, 177, 178,
    *range(180, 190),
    191, 193, 195, 196, 197, 198, 199,
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    *"王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈",
    "欧阳", "上官", "司马",
)  # fmt: skip
_SURNAME_WEIGHTS = np.array(
    [7.1, 7.0, 6.7, 5.4, 4.5, 3.1, 2.2, 2.0, 2.0, 1.9, 1.5, 1.4, 1.3, 1.2, 1.1, 1.1, 1.0,
     1.0, 1.0, 0.9, 0.8, 0.8, 0.6, 0.6, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4,
     0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3,
     0.05, 0.01, 0.01]
)  # fmt: skip
GIVEN_MALE: tuple[str, ...] = tuple(
    "伟刚勇毅俊峰强军平东文辉力明永健志兴良海山波宁福龙国胜学祥发武新利清飞彬杰涛成康光天达安"
    "磊民超浩亮哲江宏斌栋鹏泽晨建家德博宇轩航睿"
)
GIVEN_FEMALE: tuple[str, ...] = tuple(
    "秀娟英华慧美娜静淑雅芝玉萍红玲芬芳燕春兰凤洁梅琳云莲雪荣霞香月媛艳佳嘉莉桂晶妍秋珊婷倩"
    "颖露瑶怡丹蓉琴薇梦欣悦冰晓菲思丽涵萱"
)
STREETS: tuple[str, ...] = (
    "人民路", "中山路", "解放路", "建设路", "和平路", "新华路", "长江路", "黄河路", "文化路",
    "胜利路", "东风路", "光明路", "幸福路", "朝阳路", "青年路", "工业路", "学府路", "滨江路",
    "南京路", "北京路", "花园路", "友谊路", "建国路", "复兴路", "团结路", "振兴路", "迎宾路",
    "育才路", "金山路", "银河路",
)  # fmt: skip
ESTATES: tuple[str, ...] = (
    "阳光花园", "翠苑", "锦绣家园", "金色家园", "幸福里", "和谐家园", "世纪城", "碧水湾",
    "东方明珠苑", "桂花园", "枫林小区", "紫荆苑", "绿景花园", "丽景湾", "新城小区", "书香门第",
)  # fmt: skip

# Public IPv4 /8 blocks allocated to Chinese carriers (APNIC).
IP_FIRST_OCTETS: tuple[int, ...] = (
    36, 39, 42, 49, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116, 117, 118,
    119, 120, 121, 122, 123, 124, 125, 171, 175, 180, 182, 183, 211, 218, 219, 220, 221, 222,
    223,
)  # fmt: skip

MAX_SEQUENCE = 999  # the 3-digit sequence block runs 001..999; odd for men, even for women


# --- keyed permutation -------------------------------------------------------------------


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a cheap, well-spread round function for the Feistel network."""
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z = z * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


@dataclass(frozen=True)
class Permutation:
    """A keyed bijection of [0, size), so distinct inputs never share an output."""

    size: int
    keys: tuple[int, ...]

    @property
    def half_bits(self) -> int:
        bits = max(2, int(self.size - 1).bit_length())
        return (bits + 1) // 2

    def _round_trip(self, x: np.ndarray) -> np.ndarray:
        half = np.uint64(self.half_bits)
        mask = np.uint64((1 << self.half_bits) - 1)
        left, right = x >> half, x & mask
        with np.errstate(over="ignore"):
            for key in self.keys:
                left, right = right, left ^ (_mix(right ^ np.uint64(key)) & mask)
        return (left << half) | right

    def __call__(self, index: np.ndarray) -> np.ndarray:
        index = np.asarray(index, dtype=np.int64)
        if index.size and (index.min() < 0 or index.max() >= self.size):
            raise ValueError(f"index outside the permutation's domain [0, {self.size})")
        out = self._round_trip(index.astype(np.uint64))
        outside = np.flatnonzero(out >= np.uint64(self.size))
        while outside.size:  # cycle walking: re-encrypt until the value lands in [0, size)
            out[outside] = self._round_trip(out[outside])
            outside = outside[out[outside] >= np.uint64(self.size)]
        return out.astype(np.int64)


def permutation(size: int, seed: int, salt: int) -> Permutation:
    """A permutation keyed by the run's seed; `salt` separates independent uses."""
    state = np.random.SeedSequence([seed, salt]).generate_state(4, dtype=np.uint64)
    return Permutation(size, tuple(int(k) for k in state))


# --- national IDs --------------------------------------------------------------------------


@dataclass(frozen=True)
class NationalIdSpace:
    """Every (area, birth date, sequence) a national ID may take, each cell weighted.

    The capacity of an (area, birth day) cell is proportional to how common that area and
    that age are among applicants, so a uniform draw from the space gives realistic areas
    and ages while each index still maps to exactly one ID.
    """

    first_birth_day: int  # days since the epoch
    n_days: int
    cell_capacity: np.ndarray  # IDs available per (area, day) cell, row-major by area
    cell_end: np.ndarray  # cumulative capacity
    permute: Permutation

    @property
    def size(self) -> int:
        return self.permute.size


def _age_weight(age_years: np.ndarray) -> np.ndarray:
    """Applicants are mostly 22-45 years old, with a long tail to 70."""
    young = np.exp(-0.5 * ((age_years - 30.0) / 6.0) ** 2)
    old = np.exp(-0.5 * ((age_years - 30.0) / 12.0) ** 2)
    return np.where(age_years < 30.0, young, old).clip(0.02, None)


@lru_cache(maxsize=8)
def national_id_space(oldest_birth: date, youngest_birth: date, seed: int) -> NationalIdSpace:
    """The weighted ID space for people born between the two dates (inclusive)."""
    first = (oldest_birth - date(1970, 1, 1)).days
    n_days = (youngest_birth - oldest_birth).days + 1
    age = (youngest_birth - oldest_birth).days / 365.25 - np.arange(n_days) / 365.25 + 18.0
    area_weight = np.array([a.weight for a in AREAS])
    cell_capacity = (
        np.floor(MAX_SEQUENCE * np.outer(area_weight / area_weight.max(), _age_weight(age)))
        .astype(np.int64)
        .ravel()
    )
    cell_end = np.cumsum(cell_capacity)
    return NationalIdSpace(
        first, n_days, cell_capacity, cell_end, permutation(int(cell_end[-1]), seed, 1)
    )


@dataclass(frozen=True)
class NationalIds:
    """National IDs of a batch of people, with the blocks they encode."""

    text: pa.Array  # 18 characters, check digit last
    area_index: np.ndarray  # index into AREAS
    birth_day: np.ndarray  # days since the epoch
    is_male: np.ndarray


# The check character rule lives with the identity checks landing and the API apply.
check_digits = check_characters
is_valid_national_id = has_valid_check_character


def national_ids(index: np.ndarray, space: NationalIdSpace) -> NationalIds:
    """The national IDs of the people with these global indices (distinct for distinct indices)."""
    slot = space.permute(index)
    # Searching sorted keys walks the 1M-cell table in order: several times faster.
    order = np.argsort(slot)
    cell = np.empty_like(slot)
    cell[order] = np.searchsorted(space.cell_end, slot[order], side="right")
    cell_start = space.cell_end[cell] - space.cell_capacity[cell]
    sequence = 1 + slot - cell_start
    area_index, day = np.divmod(cell, space.n_days)
    birth_day = space.first_birth_day + day
    area_code = np.array([a.code for a in AREAS], dtype=np.int64)[area_index]
    body = np.hstack(
        [
            digit_matrix(area_code, 6),
            digit_matrix(yyyymmdd(birth_day), 8),
            digit_matrix(sequence, 3),
        ]
    )
    text = fixed_width([body, check_digits(body)[:, None]], len(slot))
    return NationalIds(text, area_index, birth_day, sequence % 2 == 1)


# --- phones, names, addresses, devices, IPs --------------------------------------------------


def phone_permutation(seed: int) -> Permutation:
    """Phone numbers: a prefix segment and eight subscriber digits, one per person."""
    return permutation(len(MOBILE_PREFIXES) * 100_000_000, seed, 2)


def phones(index: np.ndarray, permute: Permutation) -> pa.Array:
    """11-digit mainland mobile numbers, distinct for distinct indices."""
    slot = permute(index)
    segment, subscriber = np.divmod(slot, 100_000_000)
    number = np.array(MOBILE_PREFIXES, dtype=np.int64)[segment] * 100_000_000 + subscriber
    return fixed_width([digit_matrix(number, 11)], len(slot))


def names(rng: np.random.Generator, is_male: np.ndarray) -> pa.Array:
    """Chinese names: a common surname and one or two given-name characters."""
    n = is_male.size
    surname = rng.choice(len(SURNAMES), size=n, p=_SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum())
    pool = ("", *GIVEN_MALE, *GIVEN_FEMALE)  # index 0: no second character
    n_male = len(GIVEN_MALE)
    offset = np.where(is_male, 1, 1 + n_male)
    span = np.where(is_male, n_male, len(GIVEN_FEMALE))
    first = offset + (rng.random(n) * span).astype(np.int64)
    second = offset + (rng.random(n) * span).astype(np.int64)
    second = np.where(rng.random(n) < 0.75, second, 0)
    return join(pick(SURNAMES, surname), pick(pool, first), pick(pool, second))


def addresses(rng: np.random.Generator, area_index: np.ndarray) -> pa.Array:
    """Residential addresses: province, city, district, street, number, estate, flat."""
    n = area_index.size
    prefix = pick([a.prefix + a.district for a in AREAS], area_index)
    street = pick(STREETS, rng.integers(0, len(STREETS), n))
    estate = pick(ESTATES, rng.integers(0, len(ESTATES), n))
    number = integer_text(rng.integers(1, 400, n))
    building = integer_text(rng.integers(1, 30, n))
    flat = integer_text(rng.integers(1, 33, n) * 100 + rng.integers(1, 5, n))
    return join(prefix, street, number, "号", estate, building, "栋", flat, "室")


def device_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """SDK install ids: 16 random hex characters (never a hardware identifier)."""
    words = rng.integers(0, np.iinfo(np.int64).max, size=n, dtype=np.int64).astype(np.uint64)
    return fixed_width([hex_matrix(words)], n)


def random_subnets(rng: np.random.Generator, n: int) -> np.ndarray:
    """The first three octets of public Chinese /24 networks, packed as a 24-bit integer."""
    first = np.array(IP_FIRST_OCTETS, dtype=np.int64)[rng.integers(0, len(IP_FIRST_OCTETS), n)]
    return first << 16 | rng.integers(0, 1 << 16, n)


def ip_text(subnet: np.ndarray, host: np.ndarray) -> pa.Array:
    """Dotted-quad IPv4 text from a packed /24 subnet and a host octet."""
    octets = [subnet >> 16, (subnet >> 8) & 0xFF, subnet & 0xFF, host]
    text = [integer_text(o) for o in octets]
    return join(text[0], ".", text[1], ".", text[2], ".", text[3])
