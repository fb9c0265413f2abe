"""Who a user is to the OMS: roles, held as Django groups so operators manage them in the
admin."""
