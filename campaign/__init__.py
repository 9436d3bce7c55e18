"""The campaign of 青总发〔2020〕25号: the notice's facts (`notice`) and the typed settings (`settings`)."""
