"""Imports: each uploaded file is read into its document by a job, outside the web process.

service.py   the jobs' states in the database: waiting in line, fair dispatch, leases, outcomes
queues.py    where jobs run: a pool of supervisor threads started by the app, or RQ with REDIS_URL
sandbox.py   one job's reading process: started, watched for its time limit and cancellation, killed
reading.py   what runs in that process, under its memory cap: read, store passages in small batches
cli.py       `flask imports worker`
"""
