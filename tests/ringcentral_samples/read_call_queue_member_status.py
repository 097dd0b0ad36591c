#!/usr/bin/python
# ruff: noqa
# fmt: off
# RingCentral's own Python sample, as published in its developer guide ("Call Queue Member
# Status"); tests/test_ringcentral_samples.py runs it against the emulator with only
# RC_SERVER_URL changed.
# Where the published sample is itself broken, the fix is marked "Callrota:".

# You get the environment parameters from your 
# application dashbord in your developer account 
# https://developers.ringcentral.com

import os
import sys

from dotenv import load_dotenv
from ringcentral import SDK
# Callrota: the published sample catches ApiException but never imports it.
from ringcentral.http import ApiException
load_dotenv()

rcsdk = SDK( os.environ.get('RC_CLIENT_ID'),
             os.environ.get('RC_CLIENT_SECRET'),
             os.environ.get('RC_SERVER_URL') )
platform = rcsdk.platform()
try:
  platform.login( jwt=os.environ.get('RC_JWT') )
except Exception as e:
  sys.exit("Unable to authenticate to platform: " + str(e))

def get_account_call_queues():
    resp = platform.get('/restapi/v1.0/account/~/call-queues')
    jsonObj = resp.json()
    return jsonObj.records

def print_call_queue_member_status( id ):
    resp = platform.get('/restapi/v1.0/account/~/call-queues/' + id + "/presence")
    for r in resp.json().records:
        # Callrota: a record holds one `member`, and acceptCurrentQueueCalls sits on the record
        # (see the sample response in the guide); the published loop read r.members and m.accept...
        m = r.member
        print( f'- {m.name}: {r.acceptCurrentQueueCalls}' )

try:
    queues = get_account_call_queues()
    for q in queues:
        print( f'Found call queue: {q.name}' )
        print_call_queue_member_status( q.id )
except ApiException as e:
    sys.exit(e)
else:
    sys.exit(0)
