-- The value each contact keeps for each field (survivorship), from the long form of its source
-- rows in _survive_long (contact_id, import_id, row_number, field, value as text, _rank: the
-- row's recency, tier: held rows, then source priority, lower is better; listed: the row's
-- source is listed for the field; changing: the field changes over time). Order of preference:
--   1. the best tier (a held row only fills a field no other row gives; then source priority);
--   2. values that agree up to a small edit (case, accents, one letter, or two in
--      values of 8 letters or more, a swap of two letters counting as one; an abbreviation by
--      initials of a job title, company or industry; never another number) count as one group, led by the spelling seen in more
--      rows, then the best-formed name (not ALL CAPS or all lower case), then the most
--      complete, then the newest;
--   3. a field that changes over time takes the group seen last; any other field the group
--      seen in more rows, then its leader's order above (most complete, most recent).
-- A hand-set value (core.manual_fields) is put back afterwards; it wins over all of this.
-- One row per contact and field with a value: the chosen value, the row it was taken from (the
-- newest giving that spelling), the rule, how many rows give it, agree with it, give the
-- field, and whether every row gives this very value (settled).
-- No parameters.
WITH per_field AS (  -- most fields of most contacts: every row gives the same value
    SELECT contact_id, field, min(value) = max(value) AS settled, count(*) AS total_rows,
           min(value) AS value, min(tier) AS best_tier,
           arg_max(import_id, _rank) AS import_id, arg_max(row_number, _rank) AS row_number
    FROM _survive_long
    GROUP BY contact_id, field
),
tiered AS (  -- the rows of the fields whose rows disagree
    SELECT l.*, f.best_tier, f.total_rows
    FROM _survive_long AS l
    JOIN per_field AS f ON f.contact_id = l.contact_id AND f.field = l.field AND NOT f.settled
),
vals AS (
    SELECT contact_id, field, value, count(*) AS n, max(_rank) AS latest,
           arg_max(import_id, _rank) AS import_id, arg_max(row_number, _rank) AS row_number,
           any_value(total_rows) AS total_rows, any_value(changing) AS changing,
           bool_or(listed) AS listed, any_value(best_tier) AS best_tier
    FROM tiered
    WHERE tier = best_tier
    GROUP BY contact_id, field, value
),
shaped AS (
    SELECT *,
           lower(strip_accents(trim(value))) AS fold,
           CASE WHEN field IN ('first_name', 'last_name') THEN ''
                ELSE regexp_replace(value, '[^0-9]', '', 'g') END AS digits,
           CASE WHEN field IN ('first_name', 'last_name')
                THEN (value <> upper(value) AND value <> lower(value))::INT ELSE 0 END AS formed,
           CASE WHEN field IN ('email', 'phone', 'birthdate', 'company_size') THEN 0
                ELSE length(value) END AS complete,
           count(*) OVER (PARTITION BY contact_id, field) AS distinct_values,
           sum(n) OVER (PARTITION BY contact_id, field) AS cand_rows
    FROM vals
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY contact_id, field
                              ORDER BY fold_n DESC, formed DESC, complete DESC, latest DESC,
                                       value) AS ord,
           CASE WHEN field IN ('job_title', 'company', 'industry')
                THEN array_to_string(list_transform(
                         list_filter(regexp_split_to_array(fold, '[^a-z0-9]+'),
                                     lambda w: w <> ''),
                         lambda w: w[1]), '') END AS initials
    FROM (SELECT *, sum(n) OVER (PARTITION BY contact_id, field, fold) AS fold_n FROM shaped)
),
agree AS (  -- pairs of values agreeing up to a small edit (text fields whose values differ)
    SELECT a.contact_id, a.field, a.value, b.ord AS other_ord
    FROM ranked AS a
    JOIN ranked AS b ON a.contact_id = b.contact_id AND a.field = b.field
    WHERE a.distinct_values > 1
      AND a.field NOT IN ('email', 'phone', 'birthdate', 'company_size')
      AND a.value <> b.value AND a.digits = b.digits
      AND (a.fold = b.fold
           OR damerau_levenshtein(a.fold, b.fold)
              <= CASE WHEN least(length(a.fold), length(b.fold)) >= 8 THEN 2 ELSE 1 END
           OR (length(b.fold) BETWEEN 2 AND 6 AND b.fold = a.initials
               AND length(a.initials) = length(b.fold))
           OR (length(a.fold) BETWEEN 2 AND 6 AND a.fold = b.initials
               AND length(b.initials) = length(a.fold)))
),
leaders AS (  -- each value's group leader: the best-ordered of it and the values it agrees with
    SELECT r.contact_id, r.field, r.value, least(r.ord, coalesce(min(a.other_ord), r.ord)) AS lead
    FROM ranked AS r
    LEFT JOIN agree AS a ON a.contact_id = r.contact_id AND a.field = r.field AND a.value = r.value
    GROUP BY r.contact_id, r.field, r.value, r.ord
),
groups AS (
    SELECT l.contact_id, l.field, l.lead, sum(r.n) AS grp_n, max(r.latest) AS grp_latest
    FROM leaders AS l
    JOIN ranked AS r ON r.contact_id = l.contact_id AND r.field = l.field AND r.value = l.value
    GROUP BY l.contact_id, l.field, l.lead
),
picked AS (
    SELECT r.*, g.grp_n, g.grp_latest,
           row_number() OVER w AS pick,
           count(*) OVER (PARTITION BY g.contact_id, g.field) AS n_groups,
           max(g.grp_latest) OVER (PARTITION BY g.contact_id, g.field) AS newest,
           max(g.grp_n) OVER (w ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS runner_n
    FROM groups AS g
    JOIN ranked AS r ON r.contact_id = g.contact_id AND r.field = g.field AND r.ord = g.lead
    WINDOW w AS (PARTITION BY g.contact_id, g.field
                 ORDER BY CASE WHEN r.changing THEN g.grp_latest END DESC NULLS LAST,
                          g.grp_n DESC, g.lead)
),
folds AS (  -- per field: the most rows one spelling has, and how many spellings have as many
    SELECT contact_id, field, max(fold_n) AS top_n, count(*) FILTER (WHERE fold_n = top) AS at_top
    FROM (SELECT DISTINCT contact_id, field, fold, fold_n,
                 max(fold_n) OVER (PARTITION BY contact_id, field) AS top
          FROM ranked)
    GROUP BY contact_id, field
),
chosen AS (
    SELECT p.*, CASE WHEN p.fold_n = f.top_n AND f.at_top = 1 THEN 0 ELSE p.fold_n END
               AS other_fold_n
    FROM picked AS p
    JOIN folds AS f ON f.contact_id = p.contact_id AND f.field = p.field
    WHERE pick = 1
)
SELECT contact_id, field, value, import_id, row_number,
       CASE WHEN best_tier >= 1000000000 THEN 'held'
            WHEN total_rows = 1 THEN 'only'
            ELSE 'agreed' END AS rule,
       total_rows AS seen_rows, total_rows AS agreeing_rows, total_rows, true AS settled
FROM per_field
WHERE settled
UNION ALL
SELECT contact_id, field, value, import_id, row_number,
       CASE WHEN best_tier >= 1000000000 THEN 'held'
            WHEN total_rows = 1 THEN 'only'
            WHEN fold_n = total_rows THEN 'agreed'
            WHEN listed AND cand_rows < total_rows THEN 'source_priority'
            WHEN changing AND n_groups > 1 AND grp_latest = newest THEN 'newest'
            WHEN (n_groups > 1 AND grp_n > runner_n)
                 OR (n_groups = 1 AND fold_n > other_fold_n) THEN 'majority'
            ELSE 'complete'
       END AS rule,
       fold_n AS seen_rows, grp_n AS agreeing_rows, total_rows, false AS settled
FROM chosen
