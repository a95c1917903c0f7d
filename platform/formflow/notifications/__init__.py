"""Keeping people informed: message kinds from pack configuration, written in the change's transaction.

- `kinds`: a matter's `messages.yaml` parsed (when each kind is sent, its templates, SMS or not);
- `registry`: the packs' kinds in force in this process (`install`, like the data keys);
- `writer`: the `before_flush` listener that turns new history events into `Message` rows and
  `sms` outbox messages in the same flush (so a rolled-back change sends nothing);
- `daily`: what `formflow tick` adds once a day (correction deadline reminders, reviewers' digest).

The message centre the channels show is `formflow.usecases.messages`.
"""
