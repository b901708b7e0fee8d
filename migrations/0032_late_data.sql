-- Late data (issue "Finance: late data, refunds, minimum payouts and payout batches"): a
-- redemption or a referral payout recorded after its time, into a period whose statement is
-- already past draft, is charged once as an adjustment line on the partner's next draft.
--
-- When a redemption was recorded (`recorded_at`, the database's clock; rows older than this
-- migration have none and count as recorded on time). Recorded more than a minute after their
-- time — imported, or reported late — they are indexed, so that computing finds them without
-- reading every redemption; a payout converted earlier than it was recorded likewise.
ALTER TABLE redemptions ADD COLUMN recorded_at timestamptz;
ALTER TABLE redemptions ALTER COLUMN recorded_at SET DEFAULT clock_timestamp();
CREATE INDEX redemptions_backdated_idx ON redemptions (deal_id)
    WHERE recorded_at - redeemed_at > interval '1 minute';
CREATE INDEX referral_payouts_backdated_idx ON referral_payouts (partner_id)
    WHERE created_at - converted_at > interval '1 minute';

-- The database's clock, never the writer's: nobody but the owner names it on insert, nor
-- changes it (no UPDATE grant names it).
UPDATE app_grants SET but = ARRAY['recorded_at']
 WHERE role = 'admin' AND privilege = 'INSERT' AND object = 'redemptions';

SELECT app_roles_grant();

-- Exception lines by their source, for "is it on any statement yet".
CREATE INDEX settlement_lines_exception_redemption_idx ON settlement_lines (redemption_id)
    WHERE kind = 'exception' AND redemption_id IS NOT NULL;
CREATE INDEX settlement_lines_exception_payout_idx ON settlement_lines (payout_id)
    WHERE kind = 'exception' AND payout_id IS NOT NULL;
