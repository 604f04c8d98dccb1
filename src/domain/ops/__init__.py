"""Operations.

Read views for the ops console (``views``), producer health, and recording
mail as an EmailMessage plus an outbox row (``mail.queue_email``).
"""
