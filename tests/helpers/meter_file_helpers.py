"""Meter data files written by tests: a Green Button (ESPI) feed built from
interval tuples, for the format parsers and the gateway's file relay."""

from __future__ import annotations

T = 1_774_746_000  # 2026-03-29 01:00 UTC, the hour Europe's clocks go forward


def green_button(blocks: list[tuple[int, int, int, list[tuple[int, int, int]]]]) -> str:
    """A feed of (reading type id, flow direction, power-of-ten, [(start, duration, value)])."""
    entries = []
    for number, flow, power, readings in blocks:
        entries.append(f"""
  <entry><id>mr{number}</id>
    <link rel="self" href="https://utility.example/espi/UsagePoint/1/MeterReading/{number}"/>
    <link rel="related" href="https://utility.example/espi/ReadingType/{number}"/>
    <content><espi:MeterReading/></content></entry>
  <entry><id>ib{number}</id>
    <link rel="up" href="https://utility.example/espi/UsagePoint/1/MeterReading/{number}/IntervalBlock"/>
    <content><IntervalBlock xmlns="http://naesb.org/espi">
      <interval><duration>86400</duration><start>{T}</start></interval>
      {"".join(f"<IntervalReading><timePeriod><duration>{d}</duration><start>{s}</start>"
               f"</timePeriod><value>{v}</value></IntervalReading>" for s, d, v in readings)}
    </IntervalBlock></content></entry>
  <entry><id>rt{number}</id>
    <link rel="self" href="https://utility.example/espi/ReadingType/{number}"/>
    <content><espi:ReadingType>
      <espi:accumulationBehaviour>4</espi:accumulationBehaviour>
      <espi:commodity>1</espi:commodity>
      <espi:flowDirection>{flow}</espi:flowDirection>
      <espi:intervalLength>3600</espi:intervalLength>
      <espi:kind>12</espi:kind>
      <espi:powerOfTenMultiplier>{power}</espi:powerOfTenMultiplier>
      <espi:uom>72</espi:uom>
    </espi:ReadingType></content></entry>""")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
            f'xmlns:espi="http://naesb.org/espi">{"".join(entries)}\n</feed>\n')
