import streamlit as st

st.title("✂️ Pruning Playground")
st.write("Train a small neural network, prune its weights, fine-tune it, and see what changes.")
