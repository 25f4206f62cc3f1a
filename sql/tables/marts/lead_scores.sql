CREATE TABLE IF NOT EXISTS marts.lead_scores (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    lead_score DOUBLE NOT NULL,
    fit_score DOUBLE NOT NULL,
    engagement_score DOUBLE NOT NULL,
    fit_company_size DOUBLE NOT NULL,
    fit_role DOUBLE NOT NULL,
    fit_industry DOUBLE NOT NULL,
    engagement_recency DOUBLE NOT NULL,
    engagement_frequency DOUBLE NOT NULL,
    engagement_depth DOUBLE NOT NULL,
    score_percentile DOUBLE NOT NULL
);
COMMENT ON TABLE marts.lead_scores IS 'Lead score 0-100 per contact = fit score (who they are) + engagement score (what they do), each split into named components that add up.';
COMMENT ON COLUMN marts.lead_scores.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.lead_scores.contact_id IS 'Contact.';
COMMENT ON COLUMN marts.lead_scores.as_of IS 'As-of date of the run.';
COMMENT ON COLUMN marts.lead_scores.lead_score IS 'fit_score + engagement_score, 0-100.';
COMMENT ON COLUMN marts.lead_scores.fit_score IS 'fit_company_size + fit_role + fit_industry (0-50 by default weights).';
COMMENT ON COLUMN marts.lead_scores.engagement_score IS 'engagement_recency + engagement_frequency + engagement_depth (0-50 by default weights).';
COMMENT ON COLUMN marts.lead_scores.fit_company_size IS 'Points for company size (larger companies score more).';
COMMENT ON COLUMN marts.lead_scores.fit_role IS 'Points for seniority of the job title (C-level, VP, director, manager).';
COMMENT ON COLUMN marts.lead_scores.fit_industry IS 'Points for an industry in the tenant''s target list.';
COMMENT ON COLUMN marts.lead_scores.engagement_recency IS 'Points for how recent the last activity is.';
COMMENT ON COLUMN marts.lead_scores.engagement_frequency IS 'Points for the number of activities in the last 90 days.';
COMMENT ON COLUMN marts.lead_scores.engagement_depth IS 'Points for high-intent activities (meetings, webinars, downloads, forms) in the last 90 days.';
COMMENT ON COLUMN marts.lead_scores.score_percentile IS 'Rank of lead_score within the tenant, 0-1 (0.8 or more is the top fifth).';
