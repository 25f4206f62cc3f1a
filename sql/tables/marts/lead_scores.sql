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
    score_percentile DOUBLE NOT NULL,
    score_method VARCHAR,
    conversion_probability DOUBLE,
    top_factors VARCHAR[]
);
COMMENT ON TABLE marts.lead_scores IS 'Lead score 0-100 per contact = fit score (who they are) + engagement score (what they do), each split into named components that add up; and, where the tenant''s history allows, the learned probability that an open lead becomes a customer within 90 days, which then ranks the open leads (score_method, marts.lead_score_model).';
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
COMMENT ON COLUMN marts.lead_scores.score_percentile IS 'Rank of the score in use within the tenant''s contacts scored the same way, 0-1 (0.8 or more is the top fifth, as hot_leads reads it): of conversion_probability among the open leads when score_method is learned, of lead_score otherwise.';
COMMENT ON COLUMN marts.lead_scores.score_method IS 'learned: conversion_probability from the tenant''s own model ranks this contact; rule: lead_score does (a customer or former customer, or a tenant whose history is too short or whose model did not beat the rule on the held-out period; see marts.lead_score_model).';
COMMENT ON COLUMN marts.lead_scores.conversion_probability IS 'Probability that this open lead becomes a customer (first purchase or subscription) within 90 days of as_of, learned from the tenant''s history; NULL when score_method is rule.';
COMMENT ON COLUMN marts.lead_scores.top_factors IS 'What raised (+) or lowered (-) the score most, strongest first, in words ("+ attended 3 webinars in the last 30 days", "+ industry: healthcare"); for a rule score, its largest components with their points.';
