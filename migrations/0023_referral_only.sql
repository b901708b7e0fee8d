-- A `referral_only` agreement (issue 14): a partner whose only business is referrals owes no
-- commission on redemptions and has no model parameters; its statements hold its referral
-- payouts. Offers keep their terms as JSON (checked by the application), so only the
-- agreements' checks change.
ALTER TABLE agreements DROP CONSTRAINT agreements_model_check;
ALTER TABLE agreements ADD CONSTRAINT agreements_model_check
    CHECK (model IN ('percentage', 'fixed_fee', 'hybrid', 'flat_fee', 'referral_only'));

ALTER TABLE agreements DROP CONSTRAINT agreements_model_params;
ALTER TABLE agreements ADD CONSTRAINT agreements_model_params CHECK (
    (model = 'percentage' AND rate_bps IS NOT NULL)
    OR (model IN ('fixed_fee', 'flat_fee') AND amount_minor IS NOT NULL)
    OR (model = 'hybrid' AND base_bps IS NOT NULL AND bonus_bps IS NOT NULL AND bonus_threshold IS NOT NULL)
    OR (model = 'referral_only' AND rate_bps IS NULL AND amount_minor IS NULL
        AND base_bps IS NULL AND bonus_bps IS NULL AND bonus_threshold IS NULL)
);
