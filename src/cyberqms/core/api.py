from ninja import Router

router = Router(tags=["Quality records"])
