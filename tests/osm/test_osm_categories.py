"""Tests for planner.osm.categories: OSM tags -> facility category."""

from __future__ import annotations

import pytest

from planner import standards
from planner.osm.categories import (
    OSM_TAG_CATEGORIES,
    category_from_osm_tags,
)

# ---------------------------------------------------------------- OSM tags -> category


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"amenity": "kindergarten", "name": "北京大学幼儿园"}, "kindergarten"),
        ({"amenity": "childcare"}, "daycare"),
        ({"amenity": "school", "name": "清华附小"}, "primary_school"),
        ({"amenity": "school", "name": "海淀实验小学"}, "primary_school"),
        ({"amenity": "school", "name": "北京市第一〇一中学"}, "middle_school"),
        ({"amenity": "school", "name": "人大附中初中部"}, "middle_school"),
        ({"amenity": "school", "name": "北京大学附属中学附属小学"}, "primary_school"),
        ({"amenity": "school", "name": "Lincoln High School"}, "middle_school"),
        ({"amenity": "school", "isced:level": "2;3"}, "middle_school"),
        ({"amenity": "school", "isced:level": "1"}, "primary_school"),
        ({"amenity": "school", "isced:level": "1;2"}, "primary_school"),
        ({"amenity": "school"}, "primary_school"),
        ({"amenity": "clinic"}, "health"),
        ({"amenity": "doctors"}, "health"),
        ({"amenity": "hospital", "name": "北京大学第三医院"}, "hospital"),
        ({"amenity": "hospital", "name": "中国农业大学东区社区卫生服务中心"}, "health_centre"),
        ({"healthcare": "centre", "name": "社区卫生服务中心"}, "health_centre"),
        ({"amenity": "clinic", "name": "学院路社区卫生服务站"}, "health_station"),
        ({"amenity": "clinic", "name": "东升镇卫生院"}, "health_centre"),
        ({"amenity": "clinic", "name": "张氏诊所"}, "health"),
        ({"healthcare": "hospital"}, "hospital"),
        ({"healthcare": "dentist"}, None),
        ({"healthcare": "pharmacy"}, "pharmacy"),
        ({"amenity": "pharmacy"}, "pharmacy"),
        ({"amenity": "clinic;pharmacy"}, "health"),
        ({"amenity": "nursing_home"}, "elderly_care_home"),
        ({"amenity": "social_facility", "social_facility:for": "senior"}, "elderly_care"),
        (
            {
                "amenity": "social_facility",
                "social_facility:for": "senior",
                "social_facility": "day_care",
            },
            "elderly_day_care",
        ),
        (
            {"amenity": "social_facility", "social_facility:for": "senior", "name": "西城区养老院"},
            "elderly_care_home",
        ),
        ({"amenity": "social_facility", "social_facility": "assisted_living"}, "elderly_care_home"),
        ({"amenity": "social_facility", "social_facility": "shelter"}, "community_service"),
        ({"amenity": "community_centre", "name": "学院路社区服务中心"}, "community_service"),
        ({"amenity": "community_centre"}, "community_service"),
        ({"amenity": "community_centre", "name": "东升老年活动中心"}, "elderly_care"),
        ({"amenity": "community_centre", "name": "街道文化活动中心"}, "culture"),
        ({"amenity": "community_centre", "community_centre:for": "senior"}, "elderly_care"),
        ({"amenity": "community_centre", "name": "清河社区日间照料中心"}, "elderly_day_care"),
        ({"amenity": "community_centre", "name": "大源社区综合体"}, "community_complex"),
        ({"amenity": "social_centre"}, "community_service"),
        ({"amenity": "marketplace", "name": "清河菜市场"}, "market"),
        ({"amenity": "library"}, "culture"),
        ({"amenity": "arts_centre"}, "culture"),
        ({"amenity": "theatre"}, "culture"),
        ({"amenity": "post_office"}, "post"),
        ({"amenity": "bank", "name": "中国银行"}, "bank"),
        ({"amenity": "police"}, "police"),
        ({"shop": "supermarket", "name": "物美超市"}, "supermarket"),
        ({"shop": "supermarket", "name": "钱大妈生鲜超市"}, "fresh_supermarket"),
        ({"shop": "convenience"}, "convenience"),
        ({"shop": "greengrocer"}, "convenience"),
        ({"shop": "mall"}, "mall"),
        ({"shop": "clothes"}, None),
        ({"leisure": "sports_centre"}, "sports_centre"),
        ({"leisure": "sports_hall"}, "sports_centre"),
        ({"leisure": "stadium"}, "sports_ground"),
        ({"leisure": "track"}, "sports_ground"),
        ({"leisure": "pitch", "sport": "basketball"}, "pitch"),
        ({"leisure": "fitness_station"}, "outdoor_fitness"),
        ({"leisure": "park"}, "park"),
        ({"leisure": "playground"}, None),
        ({"building": "school", "name": "信息与电气工程学院"}, None),
        ({"building": "school", "name": "育英中学"}, "middle_school"),
        ({"building": "hospital"}, "hospital"),
        ({"building": "kindergarten"}, "kindergarten"),
        ({"building": "school"}, "primary_school"),
        ({"building": "hospital", "amenity": "parking"}, "hospital"),
        # the building type still speaks when the amenity is not a facility; callers such as
        # planner.pois decide whether a building-type-only category counts
        ({"building": "school", "amenity": "university"}, "primary_school"),
        ({"amenity": "school", "name": "清华附中"}, "middle_school"),
        ({"amenity": "school", "name": "清华大学洁华幼儿园"}, "kindergarten"),
        ({"amenity": "school", "name": "北京大学化学学院"}, None),
        ({"amenity": "school", "name": "Ressun lukio"}, "middle_school"),
        ({"amenity": "school", "isced:level": "0"}, "kindergarten"),
        ({"amenity": "school", "isced:level": "0;1"}, "primary_school"),
        ({"amenity": "school", "isced:level": "6"}, None),
        ({"leisure": "fitness_centre", "name": "社区健身器材"}, "outdoor_fitness"),
        ({"leisure": "fitness_centre", "name": "优享健身"}, "fitness"),
        ({"amenity": "university", "name": "中国农业大学"}, None),
        # names decide only for features with no amenity/healthcare/shop/leisure tag
        ({"name": "静淑苑社区居委会"}, "community_service"),
        ({"office": "government", "name": "学院路社区服务站"}, "community_service"),
        ({"amenity": "townhall", "name": "东王庄社区居民委员会"}, "community_service"),
        ({"amenity": "townhall", "name": "海淀区人民政府"}, None),
        ({"building": "yes", "name": "北太平庄社区卫生服务站"}, "health_station"),
        ({"name": "双榆树敬老院"}, "elderly_care_home"),
        ({"name": "双榆树老年人日间照料中心"}, "elderly_day_care"),
        ({"name": "学院路街道养老服务中心"}, "elderly_care"),
        ({"name": "海淀体育场"}, "sports_ground"),
        ({"name": "海淀区全民健身中心"}, "sports_centre"),
        ({"name": "蓝天幼儿园"}, "kindergarten"),
        ({"name": "中关村第三小学"}, "primary_school"),
        ({"name": "清华大学附属中学"}, "middle_school"),
        ({"name": "西苑农贸市场"}, "market"),
        ({"name": "五道口市场"}, "market"),
        ({"name": "海淀区市场监督管理局"}, None),
        ({"name:zh": "知春里社区服务中心", "name": "Zhichunli"}, "community_service"),
        ({"amenity": "parking", "name": "医院停车场"}, None),
        ({"amenity": "veterinary", "name": "宠物医院"}, None),
        ({"name": float("nan"), "amenity": float("nan")}, None),
        ({}, None),
    ],
)
def test_category_from_osm_tags(tags: dict[str, object], expected: str | None) -> None:
    assert category_from_osm_tags(tags) == expected


def test_standards_re_exports_the_osm_tag_rules() -> None:
    assert standards.category_from_osm_tags is category_from_osm_tags
    assert standards.OSM_TAG_CATEGORIES is OSM_TAG_CATEGORIES
