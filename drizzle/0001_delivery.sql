CREATE TABLE `chat_seq` (
	`webhook_id` text NOT NULL,
	`chat_key` text NOT NULL,
	`last_seq` integer NOT NULL,
	PRIMARY KEY(`webhook_id`, `chat_key`),
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`outbox_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`started_at` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`status_code` integer,
	`error_class` text,
	`error` text,
	`response_excerpt` text,
	`outcome` text NOT NULL,
	FOREIGN KEY (`outbox_id`) REFERENCES `outbox`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `attempts_outbox` ON `delivery_attempts` (`outbox_id`,`id`);--> statement-breakpoint
CREATE INDEX `attempts_time` ON `delivery_attempts` (`started_at`);--> statement-breakpoint
CREATE TABLE `messages` (
	`rowid` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`chat_id` text NOT NULL,
	`message_id` text NOT NULL,
	`direction` text NOT NULL,
	`type` text NOT NULL,
	`timestamp` integer NOT NULL,
	`history` integer NOT NULL,
	`data` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_identity` ON `messages` (`account_id`,`chat_id`,`message_id`);--> statement-breakpoint
CREATE INDEX `messages_chat_time` ON `messages` (`account_id`,`chat_id`,`timestamp`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`webhook_id` text NOT NULL,
	`message_rowid` integer,
	`event` text NOT NULL,
	`account_id` text,
	`chat_key` text NOT NULL,
	`seq` integer NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`data` text,
	`status` text NOT NULL,
	`ready` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`available_at` integer NOT NULL,
	`lease_until` integer,
	`last_attempt_at` integer,
	`last_status_code` integer,
	`last_error` text,
	`delivered_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`message_rowid`) REFERENCES `messages`(`rowid`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `outbox_claim` ON `outbox` (`webhook_id`,`status`,`ready`,`priority`,`available_at`);--> statement-breakpoint
CREATE INDEX `outbox_chat` ON `outbox` (`webhook_id`,`chat_key`,`seq`);--> statement-breakpoint
CREATE INDEX `outbox_message` ON `outbox` (`message_rowid`);--> statement-breakpoint
CREATE INDEX `outbox_status_time` ON `outbox` (`status`,`created_at`);--> statement-breakpoint
ALTER TABLE `webhooks` ADD `paused_until` integer;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `failing_since` integer;