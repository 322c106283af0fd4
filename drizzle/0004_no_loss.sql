CREATE TABLE `history_notifications` (
	`account_id` text NOT NULL,
	`message_id` text NOT NULL,
	`sync_type` integer NOT NULL,
	`chunk_order` integer,
	`request_id` text,
	`notification` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `message_id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `messages_ciphertext` ON `messages` (`account_id`,`message_id`) WHERE type = 'ciphertext';