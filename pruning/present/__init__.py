"""What a page shows: Plotly figures, computed sentences, the HTML report and the code export.

May run a forward pass to draw something; never trains. Only this layer (and above) imports Plotly.
"""
