"""The raw SQL beside the app's reports (measure 3 of `bench/run.py`): each report's aggregation as ONE query.

Each function takes the same inputs as the selector it shadows (institution, period bounds in UTC, partner)
and returns (sql, params) for a Django cursor. The amounts follow medbook/reports/money.py (whole cents,
half-up percentage rounding, commission earned by a completed visit or an earning no-show, never refunded):
written again here on purpose, since the point is to time the database doing the same work without the ORM.
"""

# Whole cents of a decimal column, and the commission its captured rule gives (money.rule_cents).
_CENTS = "CAST(ROUND(b.{0} * 100) AS bigint)"
_RULE = (
    "CASE WHEN b.commission_percent IS NOT NULL THEN "
    "CAST(FLOOR((CAST(ROUND(b.price * 100) AS bigint) * CAST(ROUND(b.commission_percent * 100) AS bigint) "
    "+ 5000) / 10000) AS bigint) "
    "WHEN b.commission_fixed IS NOT NULL THEN CAST(ROUND(b.commission_fixed * 100) AS bigint) ELSE 0 END"
)
_VALUE = "CASE WHEN b.status = 'cancelled' THEN 0 ELSE CAST(ROUND(b.price * 100) AS bigint) END"


def _earned(no_show_earns: bool) -> str:
    statuses = "('completed', 'no_show')" if no_show_earns else "('completed')"
    return f"(b.status IN {statuses} AND b.payment_status <> 'refunded')"


def traffic(*, institution_id: int, start, end, time_zone: str, no_show_earns: bool, per_week: bool):
    """R-2 in one query: per channel, per partner and per channel and week (or day), with GROUPING SETS."""
    bucket = (
        "date_trunc('week', b.starts_at AT TIME ZONE %s)"
        if per_week
        else "(b.starts_at AT TIME ZONE %s)::date"
    )
    sql = f"""
        SELECT GROUPING(b.channel_id, b.partner_id, bucket) AS level, b.channel_id, b.partner_id, bucket,
               min(c.name) AS channel_name, min(c.code) AS channel_code, min(c.position) AS channel_position,
               min(o.name) AS partner_name,
               count(*) AS bookings,
               count(*) FILTER (WHERE b.status = 'booked') AS booked,
               count(*) FILTER (WHERE b.status = 'completed') AS completed,
               count(*) FILTER (WHERE b.status = 'cancelled') AS cancelled,
               count(*) FILTER (WHERE b.status = 'no_show') AS no_show,
               sum({_VALUE}) AS value_cents,
               sum(CASE WHEN {_earned(no_show_earns)} THEN {_RULE} ELSE 0 END) AS commission_cents
        FROM scheduling_booking b
        JOIN scheduling_trafficchannel c ON c.id = b.channel_id
        LEFT JOIN accounts_organization o ON o.id = b.partner_id
        CROSS JOIN LATERAL (SELECT {bucket} AS bucket) t
        WHERE b.institution_id = %s AND b.starts_at >= %s AND b.starts_at < %s
        GROUP BY GROUPING SETS ((b.channel_id), (b.partner_id), (b.channel_id, bucket))
        ORDER BY level, channel_position, channel_name, b.channel_id, partner_name, b.partner_id, bucket
    """
    return sql, [time_zone, institution_id, start, end]


def partner_bookings(*, institution_id: int, start, end, no_show_earns: bool, page_size: int = 50):
    """R-3's first page in one query: the partners' bookings of the period with every joined detail and the
    commission due, and the total count (the paginator's) as a window."""
    sql = f"""
        SELECT b.id, b.starts_at, b.ends_at, b.status, b.payment_status, b.note, b.cancel_reason, b.price,
               b.created_at, p.full_name AS patient, s.name AS service, l.name AS location,
               ph.full_name AS physician, c.name AS channel, o.name AS partner, u.email AS booked_by,
               CASE WHEN {_earned(no_show_earns)} THEN {_RULE} ELSE 0 END AS commission_due_cents,
               count(*) OVER () AS total
        FROM scheduling_booking b
        JOIN patients_patient p ON p.id = b.patient_id
        JOIN institutions_service s ON s.id = b.service_id
        JOIN institutions_location l ON l.id = b.location_id
        JOIN institutions_physician ph ON ph.id = b.physician_id
        JOIN scheduling_trafficchannel c ON c.id = b.channel_id
        JOIN accounts_organization o ON o.id = b.partner_id
        LEFT JOIN accounts_user u ON u.id = b.booked_by_id
        WHERE b.institution_id = %s AND b.starts_at >= %s AND b.starts_at < %s AND b.partner_id IS NOT NULL
        ORDER BY b.starts_at, b.id
        LIMIT %s
    """
    return sql, [institution_id, start, end, page_size]


def statement(*, institution_id: int, partner_id: int, start, end):
    """X-4's open statement in one query: every booking of the partner in the period with its held flag and
    the four amounts (money.statement_amounts), and the totals of the held ones as windows. It leaves out
    what a closed statement already covers and the adjustments (the selector's extra work, none of which
    a fresh benchmark database has)."""
    held = (
        "(b.payment_status <> 'refunded' AND (b.status = 'completed' "
        "OR (b.status = 'no_show' AND i.no_show_earns_commission)))"
    )
    at_partner = "(b.payment_status = 'paid_at_partner' AND b.status = 'completed')"
    price = _CENTS.format("price")
    sql = f"""
        SELECT x.*, sum(x.value_cents) OVER () AS total_value, sum(x.commission_cents) OVER () AS total_commission,
               sum(x.to_partner_cents) OVER () AS total_to_partner,
               sum(x.to_institution_cents) OVER () AS total_to_institution,
               count(*) FILTER (WHERE x.held) OVER () AS held_bookings
        FROM (
            SELECT b.id, b.starts_at, b.status, b.payment_status, p.full_name AS patient, s.name AS service,
                   ph.full_name AS physician, l.name AS location,
                   {held} AS held,
                   CASE WHEN {held} THEN {price} ELSE 0 END AS value_cents,
                   CASE WHEN {held} THEN {_RULE} ELSE 0 END AS commission_cents,
                   CASE WHEN {held} AND {at_partner} THEN GREATEST({_RULE} - {price}, 0)
                        WHEN {held} THEN {_RULE} ELSE 0 END AS to_partner_cents,
                   CASE WHEN {held} AND {at_partner} THEN GREATEST({price} - {_RULE}, 0) ELSE 0 END
                       AS to_institution_cents
            FROM scheduling_booking b
            JOIN institutions_institution i ON i.organization_ptr_id = b.institution_id
            JOIN patients_patient p ON p.id = b.patient_id
            JOIN institutions_service s ON s.id = b.service_id
            JOIN institutions_physician ph ON ph.id = b.physician_id
            JOIN institutions_location l ON l.id = b.location_id
            WHERE b.institution_id = %s AND b.partner_id = %s AND b.starts_at >= %s AND b.starts_at < %s
        ) x
        ORDER BY x.starts_at, x.id
    """
    return sql, [institution_id, partner_id, start, end]
