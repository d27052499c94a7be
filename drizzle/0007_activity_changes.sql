ALTER TABLE "activities" ADD COLUMN "source_updated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "pushed" jsonb;--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "pushed_fields" jsonb;